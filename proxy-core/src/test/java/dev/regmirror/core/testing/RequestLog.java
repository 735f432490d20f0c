package dev.regmirror.core.testing;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * The requests a registry process has logged, fed line by line from one of its streams (the access
 * log's {@link LoggedRequest}s on stdout, the application log's {@link TimedRequest}s on stderr),
 * with a way to wait until a marker request shows up so that everything answered before it is
 * counted.
 */
final class RequestLog<T> {

    private final List<T> requests = new ArrayList<>();
    private final Function<String, Optional<T>> parser;
    private final Function<T, String> userAgent;
    private final String syncAgentPrefix;
    private long lines;
    private String lastSyncAgent = "";

    RequestLog(Function<String, Optional<T>> parser, Function<T, String> userAgent, String syncAgentPrefix) {
        this.parser = parser;
        this.userAgent = userAgent;
        this.syncAgentPrefix = syncAgentPrefix;
    }

    /** Records {@code line} if it is a request's line; marker requests are noted, not recorded. */
    synchronized void accept(String line) {
        parser.apply(line).ifPresent(request -> {
            lines++;
            String agent = userAgent.apply(request);
            if (agent.startsWith(syncAgentPrefix)) {
                lastSyncAgent = agent;
            } else {
                requests.add(request);
            }
            notifyAll();
        });
    }

    /** Waits until the marker request with user agent {@code agent} was logged; false on timeout. */
    synchronized boolean awaitSync(String agent, long timeoutMillis) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000;
        while (!lastSyncAgent.equals(agent)) {
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

    synchronized List<T> requests() {
        return List.copyOf(requests);
    }

    synchronized void reset() {
        requests.clear();
    }
}
