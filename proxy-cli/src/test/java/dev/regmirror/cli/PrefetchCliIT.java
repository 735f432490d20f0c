package dev.regmirror.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.regmirror.core.manifest.Descriptor;
import dev.regmirror.core.testing.BuiltImage;
import dev.regmirror.core.testing.RegistryProcess;
import dev.regmirror.core.testing.Skopeo;
import dev.regmirror.core.testing.TestImages;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code regmirror prefetch} and {@code regmirror jobs}, the built jar run as a user runs it,
 * against {@code regmirror serve} with a real registry as its docker.io: exit codes, the one-line
 * failure, JSON output, and a prefetched image pulled with no upstream blob request.
 */
class PrefetchCliIT {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path work;

    @Test
    void prefetchWaitJobsAndFailures() throws Exception {
        try (RegistryProcess upstream = RegistryProcess.start(); Skopeo skopeo = new Skopeo()) {
            BuiltImage image = TestImages.singleArch(work.resolve("image"), "1.0", 3, 300_000, 61);
            skopeo.copy(image.source(), "docker://" + upstream.hostPort() + "/library/app:1.0");
            int port = RegmirrorProcess.freePort();
            int adminPort = RegmirrorProcess.freePort();
            String server = "http://127.0.0.1:" + adminPort;
            Path config = RegmirrorProcess.config(work, "application", port, adminPort, "cache",
                    upstream.url().toString(), "regmirror.admin.token = \"s3cret\"");
            try (RegmirrorProcess mirror = RegmirrorProcess.serve(work, config, port, List.of())) {
                RegmirrorProcess.Finished waited = cli("prefetch", "app:1.0", "--wait", "--server", server,
                        "--token", "s3cret");
                assertEquals(0, waited.exitCode(), waited.output());
                List<String> lines = waited.output().lines().toList();
                String last = lines.get(lines.size() - 1);
                assertTrue(last.startsWith("done: docker.io/library/app:1.0 " + image.digest() + ", "), waited.output());
                assertTrue(last.contains(" in 4 blobs (0 already cached)"), waited.output());

                RegmirrorProcess.Finished listed = cli("jobs", "--server", server, "--token", "s3cret", "-o", "json");
                assertEquals(0, listed.exitCode(), listed.output());
                JsonNode job = JSON.readTree(listed.output()).get("jobs").get(0);
                long blobBytes = image.blobs().stream().mapToLong(Descriptor::size).sum();
                assertEquals("succeeded", job.get("state").asText());
                assertEquals(blobBytes, job.get("bytesDone").asLong(), job.toString());
                assertEquals(blobBytes, job.get("bytesTotal").asLong(), job.toString());

                upstream.reset();
                skopeo.copyToDir("docker://127.0.0.1:" + port + "/app:1.0", work.resolve("pulled"));
                assertEquals(List.of(), upstream.blobGets(), "prefetched: every blob from the cache");

                RegmirrorProcess.Finished missing = cli("prefetch", "app:nope", "--wait", "--server", server,
                        "--token", "s3cret");
                assertEquals(1, missing.exitCode(), missing.output());
                assertEquals(1, missing.output().lines().count(), missing.output());
                assertTrue(missing.output().startsWith("regmirror: prefetch of docker.io/library/app:nope failed: "
                        + "MANIFEST_UNKNOWN "), missing.output());
                assertTrue(missing.output().contains("upstream answered 404 MANIFEST_UNKNOWN"), missing.output());

                RegmirrorProcess.Finished queued = cli("prefetch", "app:1.0", "--server", server, "--token", "s3cret",
                        "-o", "json");
                assertEquals(0, queued.exitCode(), queued.output());
                String id = JSON.readTree(queued.output()).get("id").asText();
                RegmirrorProcess.Finished one = cli("jobs", id, "--server", server, "--token", "s3cret", "-o", "json");
                assertEquals(0, one.exitCode(), one.output());
                assertEquals(id, JSON.readTree(one.output()).get("id").asText());
                RegmirrorProcess.Finished table = cli("jobs", "--server", server, "--token", "s3cret");
                assertEquals(0, table.exitCode(), table.output());
                assertTrue(table.output().startsWith("ID "), table.output());
                assertTrue(table.output().contains("MANIFEST_UNKNOWN"), table.output());

                RegmirrorProcess.Finished badPlatform = cli("prefetch", "app:1.0", "--platform", "linux", "--server",
                        server, "--token", "s3cret");
                assertEquals(1, badPlatform.exitCode(), badPlatform.output());
                assertEquals("regmirror: the admin API at " + server + " answered 400 to /admin/prefetch: PLATFORM_INVALID"
                        + " invalid platform \"linux\": write os/architecture[/variant], such as linux/amd64 or"
                        + " linux/arm64/v8\n", badPlatform.output());

                RegmirrorProcess.Finished noJob = cli("jobs", "0000", "--server", server, "--token", "s3cret");
                assertEquals(1, noJob.exitCode(), noJob.output());
                assertTrue(noJob.output().startsWith("regmirror: the admin API at " + server
                        + " answered 404 to /admin/jobs/0000: JOB_UNKNOWN"), noJob.output());
            }
        }
    }

    private RegmirrorProcess.Finished cli(String... args) throws Exception {
        return RegmirrorProcess.run(work, List.of(), args);
    }
}
