package dev.regmirror.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.regmirror.core.testing.BuiltImage;
import dev.regmirror.core.testing.RegistryProcess;
import dev.regmirror.core.testing.Skopeo;
import dev.regmirror.core.testing.TestImages;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code regmirror usage} and {@code regmirror images}, the built jar run as a user runs it, against
 * {@code regmirror serve} (also the jar) with a real registry as its docker.io.
 */
class AdminCliIT {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path work;

    private Path config(int port, int adminPort, String upstream, String adminLines) throws Exception {
        return RegmirrorProcess.config(work, "application", port, adminPort, "cache", upstream, adminLines);
    }

    @Test
    void usageAndImagesReportWhatWasPulled() throws Exception {
        try (RegistryProcess upstream = RegistryProcess.start(); Skopeo skopeo = new Skopeo()) {
            BuiltImage image = TestImages.singleArch(work.resolve("image"), "1.0", 2, 50_000, 31);
            skopeo.copy(image.source(), "docker://" + upstream.hostPort() + "/library/app:1.0");
            int port = RegmirrorProcess.freePort();
            int adminPort = RegmirrorProcess.freePort();
            String server = "http://127.0.0.1:" + adminPort;
            try (RegmirrorProcess mirror = RegmirrorProcess.serve(work, config(port, adminPort, upstream.url().toString(),
                    "regmirror.admin.token = \"s3cret\""), port, List.of())) {
                skopeo.copyToDir("docker://127.0.0.1:" + port + "/app:1.0", work.resolve("pulled"));

                RegmirrorProcess.Finished usage = RegmirrorProcess.run(work, List.of(), "usage", "--server", server,
                        "--token", "s3cret", "--output", "json");
                assertEquals(0, usage.exitCode(), usage.output());
                JsonNode figures = JSON.readTree(usage.output());
                assertEquals(bytesUnder(work.resolve("cache/blobs")), figures.get("totalBytes").asLong(), usage.output());
                assertEquals(image.blobs().size() + 1, figures.get("blobs").asInt(), "config, layers, manifest");
                assertEquals(0, figures.get("reclaimableBytes").asLong());

                RegmirrorProcess.Finished table = RegmirrorProcess.run(work, List.of(), "usage", "--server", server,
                        "--token", "s3cret");
                assertEquals(0, table.exitCode(), table.output());
                assertTrue(table.output().startsWith("WHAT"), table.output());
                assertTrue(table.output().contains("reclaimable  0 B"), table.output());

                RegmirrorProcess.Finished images = RegmirrorProcess.run(work, List.of(), "images", "--server", server,
                        "--token", "s3cret", "--output", "json");
                assertEquals(0, images.exitCode(), images.output());
                JsonNode app = JSON.readTree(images.output()).get("repositories").get(0);
                assertEquals("docker.io/library/app", app.get("name").asText());
                assertEquals(image.digest().toString(), app.get("tags").get(0).get("digest").asText());

                RegmirrorProcess.Finished listing = RegmirrorProcess.run(work, List.of(), "images", "--server", server,
                        "--token", "s3cret", "--prefix", "docker.io/library/");
                assertEquals(0, listing.exitCode(), listing.output());
                assertTrue(listing.output().contains("docker.io/library/app  1.0  " + image.digest().toString()
                        .substring(0, 19)), listing.output());

                RegmirrorProcess.Finished refused = RegmirrorProcess.run(work, List.of(), "usage", "--server", server,
                        "--token", "wrong");
                assertEquals(1, refused.exitCode(), refused.output());
                assertEquals("regmirror: the admin API at " + server
                        + " refused the request (401): UNAUTHORIZED wrong admin token\n", refused.output());
            }
        }
    }

    @Test
    void aServerThatIsNotThereIsOneLineAndANonZeroExit() throws Exception {
        int closed = RegmirrorProcess.freePort();
        RegmirrorProcess.Finished run = RegmirrorProcess.run(work, List.of(), "usage", "--server",
                "http://127.0.0.1:" + closed);
        assertEquals(1, run.exitCode(), run.output());
        assertEquals("regmirror: cannot reach the admin API at http://127.0.0.1:" + closed + ": connection refused\n",
                run.output());
    }

    @Test
    void serveRefusesAnAdminListenerOnANonLoopbackAddressWithoutAToken() throws Exception {
        Path config = config(RegmirrorProcess.freePort(), 0, "http://127.0.0.1:9", "regmirror.admin.host = \"0.0.0.0\"");
        RegmirrorProcess.Finished run = RegmirrorProcess.run(work, List.of(), "serve", "--config", config.toString());
        assertEquals(2, run.exitCode(), run.output());
        assertTrue(run.output().contains("regmirror: regmirror.admin.token: required when the admin API listens on 0.0.0.0"),
                run.output());
    }

    private static long bytesUnder(Path directory) throws Exception {
        try (Stream<Path> files = Files.walk(directory)) {
            return files.filter(Files::isRegularFile).mapToLong(file -> file.toFile().length()).sum();
        }
    }
}
