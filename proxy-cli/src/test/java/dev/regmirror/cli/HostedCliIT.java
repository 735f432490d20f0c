package dev.regmirror.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.testing.BuiltImage;
import dev.regmirror.core.testing.RegistryProcess;
import dev.regmirror.core.testing.Skopeo;
import dev.regmirror.core.testing.TestCredentials;
import dev.regmirror.core.testing.TestImages;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CLI shows hosted repositories as such, the built jar run as a user runs it: an image skopeo
 * pushed to a hosted repository is listed by {@code regmirror images} as hosted and counted by
 * {@code regmirror usage}; {@code regmirror export} writes it with its digest, and {@code regmirror
 * import} puts it into another mirror's hosted repository, listed there as hosted and pulled back.
 */
class HostedCliIT {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path work;

    private Path config(String name, int port, int adminPort, String upstream, Path htpasswd) throws Exception {
        return RegmirrorProcess.config(work, name, port, adminPort, name, upstream,
                "regmirror.auth.htpasswd = \"" + htpasswd + "\"",
                "regmirror.hosted.namespaces = [\"lan\"]",
                "regmirror.auth.rules = [",
                "  { images = [\"local/lan/**\"], actions = [\"push\"], allow = [\"alice\"] }",
                "  { images = [\"**\"], allow = [\"anonymous\"] }",
                "]");
    }

    @Test
    void aHostedImageIsListedCountedExportedAndImportedAsHosted() throws Exception {
        Path htpasswd = Files.writeString(work.resolve("htpasswd"), TestCredentials.htpasswdLine("alice", "alice-pw") + "\n");
        try (RegistryProcess upstream = RegistryProcess.start(); Skopeo skopeo = new Skopeo()) {
            BuiltImage image = TestImages.singleArch(work.resolve("image"), "1.0", 2, 40_000, 61);
            int port = RegmirrorProcess.freePort();
            int adminPort = RegmirrorProcess.freePort();
            String server = "http://127.0.0.1:" + adminPort;
            Path tar = work.resolve("app.tar");
            try (RegmirrorProcess mirror = RegmirrorProcess.serve(work, config("pushed", port, adminPort,
                    upstream.url().toString(), htpasswd), port, List.of())) {
                skopeo.copy(image.source(), "docker://127.0.0.1:" + port + "/lan/app:1.0", "--dest-creds", "alice:alice-pw");

                RegmirrorProcess.Finished images = RegmirrorProcess.run(work, List.of(), "images", "--server", server);
                assertEquals(0, images.exitCode(), images.output() + mirror.output());
                String row = images.output().lines().filter(line -> line.startsWith("local/lan/app")).findFirst()
                        .orElseThrow(() -> new AssertionError(images.output()));
                assertTrue(row.matches("local/lan/app +1\\.0 +" + image.digest().toString().substring(0, 19)
                        + " +\\S+( \\S+)? +hosted .*"), row);
                RegmirrorProcess.Finished usage = RegmirrorProcess.run(work, List.of(), "usage", "--server", server);
                assertEquals(0, usage.exitCode(), usage.output());
                assertTrue(usage.output().contains("blobs and manifests of 1 hosted repositories, kept whatever the cap"),
                        usage.output());

                RegmirrorProcess.Finished export = RegmirrorProcess.run(work, List.of(), "export", "lan/app:1.0",
                        "-o", tar.toString(), "--registry", "http://127.0.0.1:" + port);
                assertEquals(0, export.exitCode(), export.output());
                assertTrue(export.output().startsWith("exported lan/app:1.0 (" + image.digest() + ", "), export.output());
                assertEquals(image.digest(), skopeo.inspectDigest("oci-archive:" + tar));
            }

            int otherPort = RegmirrorProcess.freePort();
            int otherAdmin = RegmirrorProcess.freePort();
            try (RegmirrorProcess other = RegmirrorProcess.serve(work, config("imported", otherPort, otherAdmin,
                    upstream.url().toString(), htpasswd), otherPort, List.of())) {
                awaitListening(otherAdmin);
                RegmirrorProcess.Finished imported = RegmirrorProcess.run(work, List.of(), "import", tar.toString(),
                        "--server", "http://127.0.0.1:" + otherAdmin);
                assertEquals(0, imported.exitCode(), imported.output() + other.output());
                assertTrue(imported.output().contains("local/lan/app  1.0  " + image.digest()), imported.output());

                RegmirrorProcess.Finished json = RegmirrorProcess.run(work, List.of(), "images", "--server",
                        "http://127.0.0.1:" + otherAdmin, "--output", "json");
                assertEquals(0, json.exitCode(), json.output());
                JsonNode app = JSON.readTree(json.output()).path("repositories").path(0);
                assertEquals("local/lan/app", app.path("name").asText(), json.output());
                assertTrue(app.path("hosted").asBoolean(), json.output());
                assertEquals(image.digest().toString(), app.path("tags").path(0).path("digest").asText());

                Path pulled = work.resolve("pulled");
                skopeo.copyToDir("docker://127.0.0.1:" + otherPort + "/lan/app:1.0", pulled);
                assertEquals(image.digest(), Digest.sha256Of(Files.readAllBytes(pulled.resolve("manifest.json"))));
                assertEquals(List.of(), upstream.requests().stream().map(request -> request.path())
                        .filter(path -> path.contains("/lan/")).toList(), "hosted names never reach the upstream");
            }
        }
    }

    /** RegmirrorProcess.serve waits for the registry port; the admin listener is bound just after it. */
    private static void awaitListening(int port) throws Exception {
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
        while (true) {
            try (java.net.Socket socket = new java.net.Socket("127.0.0.1", port)) {
                return;
            } catch (java.io.IOException notYet) {
                if (System.nanoTime() > deadline) {
                    throw notYet;
                }
                Thread.sleep(50);
            }
        }
    }
}
