package dev.regmirror.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintStream;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;

/**
 * Follows a job by polling {@code GET /admin/jobs/<id>} until it ends: on a terminal a progress bar
 * redrawn in place (bytes done and total, blobs, rate), otherwise a plain line each time a blob is
 * done or every few seconds (nothing before the image's blobs are known); then one line saying how it ended. Exit code 0 if it succeeded, 1 if
 * it failed (the upstream's error on stderr), could not be followed, or ran without progress for the
 * stall limit (the job itself goes on in the mirror).
 */
final class JobWatcher {

    private static final int BAR = 30;

    private final JobPoller poller;
    private final boolean json;
    private final PrintStream out;
    private final PrintStream err;

    /** @param stallLimit how long a running job may show no progress before the watch gives up on it */
    JobWatcher(AdminClient client, Duration stallLimit, boolean json, boolean terminal, PrintStream out,
               PrintStream err) {
        this.poller = new JobPoller(client, stallLimit, json, terminal, out, err);
        this.json = json;
        this.out = out;
        this.err = err;
    }

    int follow(JsonNode job) throws InterruptedException {
        long startNanos = System.nanoTime();
        long startBytes = job.path("bytesDone").asLong();
        Optional<JsonNode> ended = poller.follow(job, new JobPoller.View() {
            @Override
            public String progressOf(JsonNode job) {
                return job.path("state").asText() + " " + job.path("bytesDone").asLong() + " "
                        + job.path("blobsDone").asInt();
            }

            @Override
            public String named(String id, JsonNode job) {
                return "prefetch job " + id + " of " + job.path("image").asText();
            }

            @Override
            public Optional<String> line(JsonNode job, long sinceStart) {
                // Nothing before the image's blobs are known.
                return job.path("blobsTotal").asInt() == 0 ? Optional.empty()
                        : Optional.of(JobWatcher.line(job, rate(job.path("bytesDone").asLong() - startBytes, sinceStart)));
            }

            @Override
            public boolean changedEnough(JsonNode printed, JsonNode job) {
                return printed == null || printed.path("blobsDone").asInt() != job.path("blobsDone").asInt();
            }
        });
        return ended.isEmpty() ? 1 : ended(ended.get(), Duration.ofNanos(System.nanoTime() - startNanos));
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
