package dev.regmirror.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.regmirror.core.manifest.Descriptor;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.testing.BuiltImage;
import dev.regmirror.core.testing.BuiltManifest;
import dev.regmirror.core.testing.RegistryProcess;
import dev.regmirror.core.testing.Skopeo;
import dev.regmirror.core.testing.TestImages;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code regmirror export} and {@code regmirror import}, the built jar run as a user runs it: images
 * pushed to a real registry, exported through one mirror, read back by skopeo with their original
 * digests, imported into an air-gapped mirror and pulled from it.
 */
class ExportImportCliIT {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path work;

    /** The bytes of one file of a tar. */
    private static byte[] tarFile(Path tar, String name) throws Exception {
        try (TarArchiveInputStream in = new TarArchiveInputStream(Files.newInputStream(tar))) {
            TarArchiveEntry entry;
            while ((entry = in.getNextEntry()) != null) {
                if (entry.getName().equals(name)) {
                    return in.readAllBytes();
                }
            }
        }
        throw new AssertionError(tar + " has no " + name);
    }

    private Path config(String dir, int port, int adminPort, String upstream) throws Exception {
        return RegmirrorProcess.config(work, dir, port, adminPort, dir, upstream);
    }

    @Test
    void aDockerArchiveKeepsTheOriginalDigests() throws Exception {
        try (RegistryProcess upstream = RegistryProcess.start(); Skopeo skopeo = new Skopeo()) {
            BuiltImage image = TestImages.singleArch(work.resolve("image"), "1.0", 3, 40_000, 41);
            skopeo.copy(image.source(), "docker://" + upstream.hostPort() + "/library/app:1.0");
            int port = RegmirrorProcess.freePort();
            try (RegmirrorProcess mirror = RegmirrorProcess.serve(work, config("cache", port,
                    RegmirrorProcess.freePort(), upstream.url().toString()), port, List.of())) {
                Path tar = work.resolve("app.tar");
                RegmirrorProcess.Finished export = RegmirrorProcess.run(work, List.of(), "export", "app:1.0",
                        "-o", tar.toString(), "--registry", "http://127.0.0.1:" + port);
                assertEquals(0, export.exitCode(), export.output());
                assertTrue(export.output().startsWith("exported app:1.0 (" + image.digest() + ", "), export.output());

                BuiltManifest built = image.manifest();
                JsonNode manifest = JSON.readTree(skopeo.inspectRaw("docker-archive:" + tar));
                assertEquals(built.config().digest().toString(), manifest.path("config").path("digest").asText());
                List<String> layers = new ArrayList<>();
                manifest.path("layers").forEach(layer -> layers.add(layer.path("digest").asText()));
                assertEquals(built.diffIds().stream().map(Digest::toString).toList(), layers,
                        "docker-archive names layers by their uncompressed digests, the config's diff_ids");
                byte[] config = skopeo.run(List.of("inspect", "--config", "--raw", "docker-archive:" + tar)).stdout();
                assertEquals(built.config().digest(), Digest.sha256Of(config));
                assertEquals(image.digest(), skopeo.inspectDigest("oci-archive:" + tar),
                        "the same tar is an OCI layout holding the original manifest bytes");
                Path copied = work.resolve("copied");
                skopeo.copyToDir("oci-archive:" + tar, copied);
                for (Descriptor layer : built.layers()) {
                    assertTrue(Files.isRegularFile(copied.resolve(layer.digest().hex())), "compressed layer " + layer.digest());
                }

                // name:tag@digest: the digest is what is exported, the tag (which the upstream lacks) only its name.
                Path pinned = work.resolve("pinned.tar");
                RegmirrorProcess.Finished byDigest = RegmirrorProcess.run(work, List.of(), "export",
                        "app:9.9@" + image.digest(), "-o", pinned.toString(), "--registry", "http://127.0.0.1:" + port);
                assertEquals(0, byDigest.exitCode(), byDigest.output());
                assertTrue(byDigest.output().startsWith("exported app:9.9@" + image.digest() + " (" + image.digest()),
                        byDigest.output());
                assertEquals(image.digest(), skopeo.inspectDigest("oci-archive:" + pinned));
                assertEquals("[\"app:9.9\"]", JSON.readTree(tarFile(pinned, "manifest.json")).path(0)
                        .path("RepoTags").toString());
                assertEquals("app:9.9", JSON.readTree(tarFile(pinned, "index.json")).path("manifests").path(0)
                        .path("annotations").path(ExportCommand.IMAGE_NAME).asText());

                RegmirrorProcess.Finished invalid = RegmirrorProcess.run(work, List.of(), "export", "app:1.0@sha256:abc",
                        "-o", work.resolve("never.tar").toString(), "--registry", "http://127.0.0.1:" + port);
                assertEquals(2, invalid.exitCode(), invalid.output());
                assertTrue(invalid.output().startsWith("regmirror: \"app:1.0@sha256:abc\": invalid digest \"sha256:abc\""), invalid.output());
                assertFalse(Files.exists(work.resolve("never.tar")));
            }
        }
    }

    @Test
    void anAirGappedMirrorServesAnImportedExport() throws Exception {
        try (RegistryProcess upstream = RegistryProcess.start(); Skopeo skopeo = new Skopeo()) {
            BuiltImage image = TestImages.singleArch(work.resolve("image"), "1.0", 2, 30_000, 47);
            skopeo.copy(image.source(), "docker://" + upstream.hostPort() + "/library/app:1.0");
            Path tar = work.resolve("app.tar");
            int port = RegmirrorProcess.freePort();
            try (RegmirrorProcess online = RegmirrorProcess.serve(work, config("online", port,
                    RegmirrorProcess.freePort(), upstream.url().toString()), port, List.of())) {
                RegmirrorProcess.Finished export = RegmirrorProcess.run(work, List.of(), "export", "app:1.0",
                        "-o", tar.toString(), "--registry", "http://127.0.0.1:" + port);
                assertEquals(0, export.exitCode(), export.output());
            }
            upstream.reset();

            int airPort = RegmirrorProcess.freePort();
            int airAdmin = RegmirrorProcess.freePort();
            String dead = "http://127.0.0.1:" + RegmirrorProcess.freePort();
            try (RegmirrorProcess airGapped = RegmirrorProcess.serve(work, config("airgap", airPort, airAdmin, dead),
                    airPort, List.of())) {
                awaitListening(airAdmin);
                RegmirrorProcess.Finished imported = RegmirrorProcess.run(work, List.of(), "import", tar.toString(),
                        "--server", "http://127.0.0.1:" + airAdmin);
                assertEquals(0, imported.exitCode(), imported.output() + airGapped.output());
                assertTrue(imported.output().startsWith("REPOSITORY"), imported.output());
                assertTrue(imported.output().contains("docker.io/library/app  1.0  " + image.digest()), imported.output());

                Path pulled = work.resolve("pulled");
                skopeo.copyToDir("docker://127.0.0.1:" + airPort + "/app:1.0", pulled);
                assertEquals(image.digest(), Digest.sha256Of(Files.readAllBytes(pulled.resolve("manifest.json"))));
                for (Descriptor blob : image.blobs()) {
                    assertEquals(blob.digest(), Digest.sha256Of(Files.readAllBytes(pulled.resolve(blob.digest().hex()))));
                }

                RegmirrorProcess.Finished json = RegmirrorProcess.run(work, List.of(), "images", "--server",
                        "http://127.0.0.1:" + airAdmin, "--output", "json");
                assertEquals(0, json.exitCode(), json.output() + airGapped.output());
                JsonNode app = JSON.readTree(json.output()).path("repositories").path(0);
                assertEquals("docker.io/library/app", app.path("name").asText(), json.output());
                assertEquals(image.digest().toString(), app.path("tags").path(0).path("digest").asText());

                Path notATar = Files.write(work.resolve("not.tar"), "hello".repeat(300).getBytes());
                RegmirrorProcess.Finished refused = RegmirrorProcess.run(work, List.of(), "import", notATar.toString(),
                        "--server", "http://127.0.0.1:" + airAdmin);
                assertEquals(1, refused.exitCode(), refused.output());
                assertEquals(1, refused.output().lines().count(), refused.output());
                assertTrue(refused.output().startsWith("regmirror: the admin API at http://127.0.0.1:" + airAdmin
                        + " answered 400 to POST /admin/import: MANIFEST_INVALID "), refused.output());
            }
            assertTrue(upstream.requests().isEmpty(), "the air-gapped mirror never reached the registry: "
                    + upstream.requests());
        }
    }

    @Test
    void anOciLayoutOfAnIndexKeepsEveryPlatformWithAll() throws Exception {
        try (RegistryProcess upstream = RegistryProcess.start(); Skopeo skopeo = new Skopeo()) {
            BuiltImage image = TestImages.multiArch(work.resolve("image"), "2.0", List.of("linux/amd64", "linux/arm64/v8"),
                    2, 20_000, 43);
            skopeo.copy(image.source(), "docker://" + upstream.hostPort() + "/org/multi:2.0", "--all");
            int port = RegmirrorProcess.freePort();
            try (RegmirrorProcess mirror = RegmirrorProcess.serve(work, config("cache", port,
                    RegmirrorProcess.freePort(), upstream.url().toString()), port, List.of())) {
                String registry = "http://127.0.0.1:" + port;
                Path layout = work.resolve("layout");
                RegmirrorProcess.Finished export = RegmirrorProcess.run(work, List.of(), "export", "org/multi:2.0",
                        "--format", "oci", "--all", "-o", layout.toString(), "--registry", registry);
                assertEquals(0, export.exitCode(), export.output());
                assertEquals(image.digest(), skopeo.inspectDigest("oci:" + layout + ":2.0"));
                Path out = work.resolve("out");
                skopeo.copy("oci:" + layout + ":2.0", "dir:" + out, "--all");
                assertEquals(image.digest(), Digest.sha256Of(Files.readAllBytes(out.resolve("manifest.json"))));

                Path ociArchive = work.resolve("multi.tar");
                RegmirrorProcess.Finished archived = RegmirrorProcess.run(work, List.of(), "export", "org/multi:2.0",
                        "--format", "oci", "--all", "-o", ociArchive.toString(), "--registry", registry);
                assertEquals(0, archived.exitCode(), archived.output());
                assertEquals(image.digest(), skopeo.inspectDigest("oci-archive:" + ociArchive));

                Path arm = work.resolve("arm.tar");
                RegmirrorProcess.Finished one = RegmirrorProcess.run(work, List.of(), "export", "org/multi:2.0",
                        "--platform", "linux/arm64/v8", "-o", arm.toString(), "--registry", registry);
                assertEquals(0, one.exitCode(), one.output());
                assertEquals(image.manifestFor("linux/arm64/v8").digest(), skopeo.inspectDigest("oci-archive:" + arm));
            }
        }
    }

    @Test
    void exportingAMissingImageIsOneLineAndNoFile() throws Exception {
        try (RegistryProcess upstream = RegistryProcess.start()) {
            int port = RegmirrorProcess.freePort();
            try (RegmirrorProcess mirror = RegmirrorProcess.serve(work, config("cache", port,
                    RegmirrorProcess.freePort(), upstream.url().toString()), port, List.of())) {
                Path tar = work.resolve("none.tar");
                RegmirrorProcess.Finished export = RegmirrorProcess.run(work, List.of(), "export", "nothing:9.9",
                        "-o", tar.toString(), "--registry", "http://127.0.0.1:" + port);
                assertEquals(1, export.exitCode(), export.output());
                assertEquals(1, export.output().lines().count(), export.output());
                assertTrue(export.output().startsWith("regmirror: the mirror at http://127.0.0.1:" + port
                        + " answered 404 to GET /v2/nothing/manifests/9.9: MANIFEST_UNKNOWN"), export.output());
                assertFalse(Files.exists(tar));
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
