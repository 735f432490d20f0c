package dev.regmirror.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.Optional;

/**
 * Follows a verify job by polling {@code GET /admin/jobs/<id>} until it ends, as {@link JobWatcher}
 * follows a prefetch (a progress line redrawn on a terminal, a plain line every few seconds
 * otherwise), then prints what it found. Exit code 0 if nothing is damaged, 1 if the verify failed,
 * could not be followed or made no progress for the stall limit, {@value #DAMAGED} if it found
 * corrupt blobs or hosted content missing.
 */
final class VerifyWatcher {

    /** The exit code when the verify found damage. */
    static final int DAMAGED = 3;

    private static final int BAR = 30;

    private final JobPoller poller;
    private final boolean json;
    private final PrintStream out;
    private final PrintStream err;

    VerifyWatcher(AdminClient client, Duration stallLimit, boolean json, boolean terminal, PrintStream out,
                  PrintStream err) {
        this.poller = new JobPoller(client, stallLimit, json, terminal, out, err);
        this.json = json;
        this.out = out;
        this.err = err;
    }

    int follow(JsonNode job) throws InterruptedException {
        long startNanos = System.nanoTime();
        Optional<JsonNode> ended = poller.follow(job, new JobPoller.View() {
            @Override
            public String progressOf(JsonNode job) {
                return VerifyWatcher.progressOf(job);
            }

            @Override
            public String named(String id, JsonNode job) {
                return "verify job " + id;
            }

            @Override
            public Optional<String> line(JsonNode job, long sinceStart) {
                return "running".equals(job.path("state").asText()) ? Optional.of(VerifyWatcher.line(job))
                        : Optional.empty();
            }

            @Override
            public boolean changedEnough(JsonNode printed, JsonNode job) {
                return false; // a plain line every few seconds
            }
        });
        return ended.isEmpty() ? 1 : ended(ended.get(), Duration.ofNanos(System.nanoTime() - startNanos));
    }

    private int ended(JsonNode job, Duration took) {
        if ("failed".equals(job.path("state").asText())) {
            if (json) {
                out.println(job.toString());
            }
            err.println("regmirror: verify job " + job.path("id").asText() + " failed: "
                    + job.path("error").path("message").asText("unknown error"));
            return 1;
        }
        JsonNode report = job.path("report");
        if (json) {
            out.println(job.toString());
        } else {
            summary(job, report, took);
        }
        return report.path("damaged").asBoolean() ? DAMAGED : 0;
    }

    private void summary(JsonNode job, JsonNode report, Duration took) {
        out.println("verified " + job.path("blobsDone").asInt() + " blobs (" + Sizes.human(job.path("bytesDone").asLong())
                + ") and " + job.path("manifestsDone").asInt() + " manifests in "
                + String.format(Locale.ROOT, "%.1f", ranFor(job, took).toMillis() / 1000.0) + " s");
        JsonNode corrupt = report.path("corrupt");
        if (corrupt.isEmpty()) {
            out.println("corrupt blobs: none");
        } else {
            out.println("corrupt blobs: " + corrupt.size() + ", moved to quarantine and no longer served:");
            for (JsonNode blob : corrupt) {
                out.println("  " + blob.path("digest").asText() + "  " + Sizes.human(blob.path("size").asLong())
                        + (blob.path("hosted").asBoolean() ? "  HOSTED" : "") + "  " + blob.path("problem").asText()
                        + "  -> "
                        + blob.path("quarantinedAs").asText() + "  (" + blob.path("repair").asText() + ")");
            }
        }
        int missing = report.path("missingTotal").asInt();
        int hosted = report.path("hostedMissingTotal").asInt();
        if (missing == 0) {
            out.println("missing references: none");
        } else {
            out.println("missing references: " + missing + " (" + hosted + " of hosted manifests; those of mirrored"
                    + " manifests are fetched by the next pull)" + (report.path("missing").size() < missing
                    ? ", the first " + report.path("missing").size() + ":" : ":"));
            for (JsonNode reference : report.path("missing")) {
                out.println("  " + reference.path("kind").asText() + " " + reference.path("digest").asText()
                        + " of manifest " + reference.path("manifest").asText()
                        + (reference.path("hosted").asBoolean() ? "  HOSTED" : ""));
            }
        }
        int gone = report.path("blobsGone").asInt();
        if (gone > 0) {
            out.println("blobs removed while they waited to be checked (evicted, purged): " + gone);
        }
        JsonNode leftovers = report.path("ingestLeftovers");
        if (!leftovers.isEmpty()) {
            out.println("unfinished downloads in ingest/ from before the server started (not removed): "
                    + leftovers.size());
            for (JsonNode leftover : leftovers) {
                out.println("  " + leftover.path("name").asText() + "  " + Sizes.human(leftover.path("size").asLong())
                        + "  " + leftover.path("modified").asText());
            }
        }
    }

    /** How long the verify ran, by the server's clock; as long as it was followed if the times are missing. */
    private static Duration ranFor(JsonNode job, Duration followed) {
        try {
            return Duration.between(Instant.parse(job.path("started").asText()),
                    Instant.parse(job.path("finished").asText()));
        } catch (RuntimeException unreadable) {
            return followed;
        }
    }

    /** What changes while a verify makes progress. */
    private static String progressOf(JsonNode job) {
        return job.path("state").asText() + " " + job.path("bytesDone").asLong() + " " + job.path("blobsDone").asInt()
                + " " + job.path("manifestsDone").asInt();
    }

    /** {@code verify [######........] 12.3 MB / 45.6 MB  3/7 blobs  1 corrupt}. */
    static String line(JsonNode job) {
        long done = job.path("bytesDone").asLong();
        long total = job.path("bytesTotal").asLong();
        int filled = total <= 0 ? 0 : (int) Math.min(BAR, done * BAR / total);
        return "verify [" + "#".repeat(filled) + ".".repeat(BAR - filled) + "] " + Sizes.human(done) + " / "
                + Sizes.human(total) + "  " + job.path("blobsDone").asInt() + "/" + job.path("blobsTotal").asInt()
                + " blobs  " + job.path("corrupt").asInt() + " corrupt";
    }
}
