package dev.regmirror.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintStream;
import java.time.Duration;
import java.util.Locale;

/**
 * Follows a job by polling {@code GET /admin/jobs/<id>} until it ends: on a terminal a progress bar
 * redrawn in place (bytes done and total, blobs, rate), otherwise a plain line each time a blob is
 * done or every few seconds (nothing before the image's blobs are known); then one line saying how it ended. Exit code 0 if it succeeded, 1 if
 * it failed (the upstream's error on stderr), could not be followed, or ran without progress for the
 * stall limit (the job itself goes on in the mirror).
 */
final class JobWatcher {

    private static final Duration POLL = Duration.ofMillis(250);
    private static final Duration PLAIN_EVERY = Duration.ofSeconds(5);
    private static final int BAR = 30;

    private final AdminClient client;
    private final Duration stallLimit;
    private final boolean json;
    private final boolean terminal;
    private final PrintStream out;
    private final PrintStream err;

    /** @param stallLimit how long a running job may show no progress before the watch gives up on it */
    JobWatcher(AdminClient client, Duration stallLimit, boolean json, boolean terminal, PrintStream out,
               PrintStream err) {
        this.client = client;
        this.stallLimit = stallLimit;
        this.json = json;
        this.terminal = terminal;
        this.out = out;
        this.err = err;
    }

    int follow(JsonNode job) throws InterruptedException {
        String id = job.path("id").asText();
        long startNanos = System.nanoTime();
        long startBytes = job.path("bytesDone").asLong();
        long lastPlain = startNanos;
        int lastBlobs = -1;
        boolean drawn = false;
        String lastSeen = progressOf(job);
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
                return 1;
            }
            long now = System.nanoTime();
            if (!progressOf(job).equals(lastSeen)) {
                lastSeen = progressOf(job);
                lastChange = now;
            } else if ("running".equals(job.path("state").asText()) && now - lastChange >= stallLimit.toNanos()) {
                if (drawn) {
                    out.println();
                }
                err.println("regmirror: prefetch job " + id + " of " + job.path("image").asText()
                        + " made no progress for " + StallLimit.format(stallLimit)
                        + "; it goes on in the mirror (regmirror jobs " + id + " shows it)");
                return 1;
            }
            if (json || ended(job) || job.path("blobsTotal").asInt() == 0) {
                continue;
            }
            String line = line(job, rate(job.path("bytesDone").asLong() - startBytes, now - startNanos));
            if (terminal) {
                out.print("\r" + line + "\033[K");
                out.flush();
                drawn = true;
            } else if (job.path("blobsDone").asInt() != lastBlobs || now - lastPlain >= PLAIN_EVERY.toNanos()) {
                out.println(line);
                lastBlobs = job.path("blobsDone").asInt();
                lastPlain = now;
            }
        }
        if (drawn) {
            out.print("\r\033[K");
        }
        return ended(job, Duration.ofNanos(System.nanoTime() - startNanos));
    }

    private int ended(JsonNode job, Duration took) {
        boolean succeeded = "succeeded".equals(job.path("state").asText());
        if (json) {
            out.println(job.toString());
        } else if (succeeded) {
            out.println("done: " + job.path("image").asText() + " " + job.path("digest").asText() + ", "
                    + Sizes.human(job.path("bytesDone").asLong()) + " in " + job.path("blobsDone").asInt() + " blobs ("
                    + job.path("blobsAlreadyCached").asInt() + " already cached), "
                    + String.format(Locale.ROOT, "%.1f", took.toMillis() / 1000.0) + " s");
        }
        if (!succeeded) {
            JsonNode error = job.path("error");
            err.println("regmirror: prefetch of " + job.path("image").asText() + " failed: "
                    + (error.isObject() ? error.path("code").asText() + " " + error.path("message").asText() : "unknown error"));
            return 1;
        }
        return 0;
    }

    /** What changes while a job makes progress: its state, bytes and blobs. */
    private static String progressOf(JsonNode job) {
        return job.path("state").asText() + " " + job.path("bytesDone").asLong() + " " + job.path("blobsDone").asInt();
    }

    private static boolean ended(JsonNode job) {
        String state = job.path("state").asText();
        return state.equals("succeeded") || state.equals("failed");
    }

    /** {@code docker.io/library/app:1.0 [######........] 12.3 MB / 45.6 MB  3/7 blobs  4.50 MB/s}. */
    static String line(JsonNode job, String rate) {
        long done = job.path("bytesDone").asLong();
        long total = job.path("bytesTotal").asLong();
        int filled = total <= 0 ? 0 : (int) Math.min(BAR, done * BAR / total);
        return job.path("image").asText() + " [" + "#".repeat(filled) + ".".repeat(BAR - filled) + "] "
                + Sizes.human(done) + " / " + (total <= 0 ? "?" : Sizes.human(total)) + "  "
                + job.path("blobsDone").asInt() + "/" + job.path("blobsTotal").asInt() + " blobs  " + rate;
    }

    private static String rate(long bytes, long nanos) {
        if (nanos <= 0) {
            return "";
        }
        return Sizes.human(Math.max(0, bytes) * 1_000_000_000L / nanos) + "/s";
    }
}
