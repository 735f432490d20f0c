package dev.regmirror.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintStream;
import java.time.Duration;
import java.util.Optional;

/**
 * Follows a job of the admin API by polling {@code GET /admin/jobs/<id>} until it ends: its progress
 * line redrawn in place on a terminal, or printed as a plain line every few seconds (and when the
 * {@link View} says it changed enough); the watch gives up, saying why on stderr, when the job
 * cannot be followed or runs without progress for the stall limit (the job goes on in the mirror).
 * What a line says is the view's: a prefetch's ({@link JobWatcher}) or a verify's ({@link VerifyWatcher}).
 */
final class JobPoller {

    private static final Duration POLL = Duration.ofMillis(250);
    private static final Duration PLAIN_EVERY = Duration.ofSeconds(5);

    /** What a kind of job shows while it is followed. */
    interface View {

        /** What changes while the job makes progress. */
        String progressOf(JsonNode job);

        /** The job as a message names it: {@code prefetch job 1a2b of docker.io/library/app:1.0}. */
        String named(String id, JsonNode job);

        /** The progress line to show now, {@code sinceStart} nanoseconds into the watch; empty for none yet. */
        Optional<String> line(JsonNode job, long sinceStart);

        /** Whether a plain line is due before the next periodic one, {@code printed} the job of the last (null if none). */
        boolean changedEnough(JsonNode printed, JsonNode job);
    }

    private final AdminClient client;
    private final Duration stallLimit;
    private final boolean json;
    private final boolean terminal;
    private final PrintStream out;
    private final PrintStream err;

    /** @param stallLimit how long a running job may show no progress before the watch gives up on it */
    JobPoller(AdminClient client, Duration stallLimit, boolean json, boolean terminal, PrintStream out,
              PrintStream err) {
        this.client = client;
        this.stallLimit = stallLimit;
        this.json = json;
        this.terminal = terminal;
        this.out = out;
        this.err = err;
    }

    /** The job as it ended; empty when the watch gave up (the reason is on stderr). */
    Optional<JsonNode> follow(JsonNode job, View view) throws InterruptedException {
        String id = job.path("id").asText();
        long startNanos = System.nanoTime();
        long lastPlain = startNanos;
        JsonNode printed = null;
        boolean drawn = false;
        String lastSeen = view.progressOf(job);
        long lastChange = startNanos;
        while (!ended(job)) {
            Thread.sleep(POLL.toMillis());
            try {
                job = client.get("/admin/jobs/" + id).body();
            } catch (AdminClient.Failure e) {
                if (drawn) {
                    out.println();
                }
                err.println("regmirror: " + e.getMessage());
                return Optional.empty();
            }
            long now = System.nanoTime();
            if (!view.progressOf(job).equals(lastSeen)) {
                lastSeen = view.progressOf(job);
                lastChange = now;
            } else if ("running".equals(job.path("state").asText()) && now - lastChange >= stallLimit.toNanos()) {
                if (drawn) {
                    out.println();
                }
                err.println("regmirror: " + view.named(id, job) + " made no progress for "
                        + StallLimit.format(stallLimit) + "; it goes on in the mirror (regmirror jobs " + id
                        + " shows it)");
                return Optional.empty();
            }
            if (json || ended(job)) {
                continue;
            }
            Optional<String> line = view.line(job, now - startNanos);
            if (line.isEmpty()) {
                continue;
            }
            if (terminal) {
                out.print("\r" + line.get() + "\033[K");
                out.flush();
                drawn = true;
            } else if (view.changedEnough(printed, job) || now - lastPlain >= PLAIN_EVERY.toNanos()) {
                out.println(line.get());
                printed = job;
                lastPlain = now;
            }
        }
        if (drawn) {
            out.print("\r\033[K");
        }
        return Optional.of(job);
    }

    private static boolean ended(JsonNode job) {
        String state = job.path("state").asText();
        return state.equals("succeeded") || state.equals("failed");
    }
}
