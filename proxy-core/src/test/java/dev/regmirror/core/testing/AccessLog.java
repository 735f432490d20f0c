package dev.regmirror.core.testing;

import java.util.ArrayList;
import java.util.List;

/**
 * The requests a registry process has logged, fed line by line from its stdout, with a way to wait
 * until a marker request shows up so that everything answered before it is counted.
 */
final class AccessLog {

    private final List<LoggedRequest> requests = new ArrayList<>();
    private final String syncAgentPrefix;
    private long lines;
    private String lastSyncAgent = "";

    AccessLog(String syncAgentPrefix) {
        this.syncAgentPrefix = syncAgentPrefix;
    }

    /** Records {@code line} if it is an access log line; marker requests are noted, not recorded. */
    synchronized void accept(String line) {
        LoggedRequest.parse(line).ifPresent(request -> {
            lines++;
            if (request.userAgent().startsWith(syncAgentPrefix)) {
                lastSyncAgent = request.userAgent();
            } else {
                requests.add(request);
            }
            notifyAll();
        });
    }

    /** Waits until the marker request with {@code userAgent} was logged; false on timeout. */
    synchronized boolean awaitSync(String userAgent, long timeoutMillis) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000;
        while (!lastSyncAgent.equals(userAgent)) {
            long left = (deadline - System.nanoTime()) / 1_000_000;
            if (left <= 0) {
                return false;
            }
            wait(left);
        }
        return true;
    }

    /** Waits until no line arrived for {@code quietMillis}, at most {@code timeoutMillis} in all. */
    synchronized void awaitQuiet(long quietMillis, long timeoutMillis) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000;
        long seen = lines;
        long quietUntil = System.nanoTime() + quietMillis * 1_000_000;
        while (System.nanoTime() < Math.min(quietUntil, deadline)) {
            wait(Math.max(1, (Math.min(quietUntil, deadline) - System.nanoTime()) / 1_000_000));
            if (lines != seen) {
                seen = lines;
                quietUntil = System.nanoTime() + quietMillis * 1_000_000;
            }
        }
    }

    synchronized List<LoggedRequest> requests() {
        return List.copyOf(requests);
    }

    synchronized void reset() {
        requests.clear();
    }
}
