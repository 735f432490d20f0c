package dev.regmirror.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.regmirror.core.manifest.Descriptor;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.storage.CacheLayout;
import dev.regmirror.core.testing.BuiltImage;
import dev.regmirror.core.testing.BuiltManifest;
import dev.regmirror.core.testing.Closing;
import dev.regmirror.core.testing.RegistryProcess;
import dev.regmirror.core.testing.Skopeo;
import dev.regmirror.core.testing.TarFiles;
import dev.regmirror.core.testing.TestImages;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code POST /admin/import} against a real server whose docker.io is a real, empty registry:
 * archives skopeo and TestImages write are imported and served through the v2 API with their
 * digests and no upstream request; bad archives are a 400 (or 404 for an unknown registry) and
 * leave nothing in the cache.
 */
class ImportIT {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path work;

    private static RegistryProcess upstream;
    private static Skopeo skopeo;

    @BeforeAll
    static void start() {
        upstream = RegistryProcess.start();
        skopeo = new Skopeo();
    }

    @AfterAll
    static void stop() throws Exception {
        Closing.all(skopeo, upstream);
    }

    @Test
    void aClassicDockerSaveArchiveIsServedUnderItsName() throws Exception {
        BuiltImage image = TestImages.singleArch(work.resolve("classic"), "1.0", 2, 30_000, 61);
        Path tar = work.resolve("classic.tar");
        skopeo.copy(image.source(), "docker-archive:" + tar + ":app:1.0");
        try (MirrorFixture mirror = MirrorFixture.start(upstream.url(), work.resolve("cache-classic"), Map.of())) {
            upstream.reset();
            HttpResponse<byte[]> response = post(mirror, tar);
            assertEquals(200, response.statusCode(), new String(response.body(), StandardCharsets.UTF_8));
            JsonNode imported = JSON.readTree(response.body()).path("images").path(0);
            assertEquals("docker.io/library/app", imported.path("name").asText());
            assertEquals("1.0", imported.path("tag").asText());

            HttpResponse<byte[]> manifest = mirror.get("/v2/library/app/manifests/1.0",
                    "Accept", "application/vnd.docker.distribution.manifest.v2+json");
            assertEquals(200, manifest.statusCode());
            assertEquals(imported.path("digest").asText(), Digest.sha256Of(manifest.body()).toString());
            BuiltManifest built = image.manifest();
            assertEquals(built.config().digest().toString(),
                    JSON.readTree(manifest.body()).path("config").path("digest").asText());
            Path pulled = work.resolve("pulled-classic");
            skopeo.copyToDir("docker://" + mirror.hostPort() + "/app:1.0", pulled);
            assertEquals(built.config().digest(), Digest.sha256Of(Files.readAllBytes(pulled.resolve(built.config().digest().hex()))));
            assertEquals(List.of(), upstream.requests(), "nothing was asked upstream");
        }
    }

    @Test
    void anOciArchiveOfAnIndexKeepsItsDigestAndEveryPlatform() throws Exception {
        Path layout = work.resolve("multi");
        BuiltImage image = TestImages.multiArch(layout, "2.0", List.of("linux/amd64", "linux/arm64/v8"), 2, 20_000, 62);
        ObjectNode index = (ObjectNode) JSON.readTree(layout.resolve("index.json").toFile());
        ((ObjectNode) index.path("manifests").path(0).path("annotations"))
                .put("io.containerd.image.name", "docker.io/team/multi:2.0");
        Files.write(layout.resolve("index.json"), JSON.writeValueAsBytes(index));
        Path tar = work.resolve("multi.tar");
        Map<String, byte[]> files = new LinkedHashMap<>();
        try (Stream<Path> paths = Files.walk(layout)) {
            for (Path file : paths.filter(Files::isRegularFile).toList()) {
                files.put(layout.relativize(file).toString(), Files.readAllBytes(file));
            }
        }
        TarFiles.write(tar, files);
        try (MirrorFixture mirror = MirrorFixture.start(upstream.url(), work.resolve("cache-multi"), Map.of())) {
            upstream.reset();
            HttpResponse<byte[]> response = post(mirror, tar);
            assertEquals(200, response.statusCode(), new String(response.body(), StandardCharsets.UTF_8));
            assertEquals(image.digest().toString(), JSON.readTree(response.body()).path("images").path(0).path("digest").asText());
            assertEquals(image.digest(), skopeo.inspectDigest("docker://" + mirror.hostPort() + "/team/multi:2.0"));
            Path pulled = work.resolve("pulled-multi");
            skopeo.copyToOci("docker://" + mirror.hostPort() + "/team/multi:2.0", pulled, "2.0", "--all");
            for (Descriptor blob : image.blobs()) {
                assertTrue(Files.isRegularFile(pulled.resolve("blobs/sha256/" + blob.digest().hex())), blob.toString());
            }
            assertEquals(List.of(), upstream.requests(), "nothing was asked upstream");
        }
    }

    /**
     * After its tag TTL an imported tag is revalidated like any other: an unreachable upstream means
     * it is served stale, but an upstream that answers "not found" makes the tag a 404 (its digest
     * is still served). Air-gapped mirrors should point at an unreachable upstream.
     */
    @Test
    void afterTheTagTtlAnImportedTagNeedsAnUnreachableUpstreamNotOneWithoutIt() throws Exception {
        BuiltImage image = TestImages.singleArch(work.resolve("ttl"), "1.0", 1, 10_000, 63);
        Path tar = work.resolve("ttl.tar");
        skopeo.copy(image.source(), "docker-archive:" + tar + ":app:1.0");
        Map<String, Object> noTtl = Map.of("regmirror.upstream-defaults.tag-ttl", "0s");
        String dead;
        // Below the ephemeral range: no listener bound to port 0 (the mirror's own) can be handed it.
        dead = "http://127.0.0.1:" + dev.regmirror.core.testing.FreePorts.pick();
        try (MirrorFixture unreachable = MirrorFixture.start(java.net.URI.create(dead), work.resolve("cache-dead"), noTtl)) {
            assertEquals(200, post(unreachable, tar).statusCode());
            assertEquals(200, unreachable.get("/v2/library/app/manifests/1.0").statusCode(), "served stale");
        }
        try (MirrorFixture denying = MirrorFixture.start(upstream.url(), work.resolve("cache-denying"), noTtl)) {
            HttpResponse<byte[]> imported = post(denying, tar);
            assertEquals(200, imported.statusCode());
            String digest = JSON.readTree(imported.body()).path("images").path(0).path("digest").asText();
            assertEquals(404, denying.get("/v2/library/app/manifests/1.0").statusCode(), "the upstream said not found");
            assertEquals(200, denying.get("/v2/library/app/manifests/" + digest).statusCode());
        }
    }

    @Test
    void badArchivesAreRefusedAndLeaveNothingInTheCache() throws Exception {
        Path cache = work.resolve("cache-bad");
        byte[] config = "{\"rootfs\":{\"diff_ids\":[]}}".getBytes(StandardCharsets.UTF_8);
        String configPath = "blobs/sha256/" + Digest.sha256Of(config).hex();
        String manifestJson = "[{\"Config\":\"" + configPath + "\",\"RepoTags\":[\"app:1.0\"],\"Layers\":[]}]";
        try (MirrorFixture mirror = MirrorFixture.start(upstream.url(), cache, Map.of())) {
            assertRefused(mirror, Files.write(work.resolve("text.tar"), "not a tar at all\n".repeat(100).getBytes()),
                    400, "MANIFEST_INVALID", "not a readable tar");
            assertRefused(mirror, TarFiles.write(work.resolve("mismatch.tar"), Map.of(
                    "blobs/sha256/" + Digest.sha256Of("other".getBytes()).hex(), config,
                    "manifest.json", manifestJson.getBytes())), 400, "DIGEST_INVALID", "does not match its digest");
            assertRefused(mirror, TarFiles.write(work.resolve("escape.tar"), Map.of(configPath, config,
                    "../../escaped", "x".getBytes(), "manifest.json", manifestJson.getBytes())),
                    400, "MANIFEST_INVALID", "would land outside the archive");
            Path link = work.resolve("link.tar");
            try (TarArchiveOutputStream out = new TarArchiveOutputStream(Files.newOutputStream(link))) {
                TarArchiveEntry entry = new TarArchiveEntry("manifest.json", TarArchiveEntry.LF_SYMLINK);
                entry.setLinkName("/etc/passwd");
                out.putArchiveEntry(entry);
                out.closeArchiveEntry();
            }
            assertRefused(mirror, link, 400, "MANIFEST_INVALID", "links to /etc/passwd, outside the archive");
            assertRefused(mirror, TarFiles.write(work.resolve("lacking.tar"), Map.of(
                    "manifest.json", manifestJson.getBytes())), 400, "MANIFEST_INVALID", "which the archive lacks");
            assertRefused(mirror, TarFiles.write(work.resolve("unknown.tar"), Map.of(configPath, config,
                    "manifest.json", manifestJson.replace("app:1.0", "registry.example.com/org/app:1.0").getBytes())),
                    404, "NAME_UNKNOWN", "no upstream is configured for registry \"registry.example.com\"");
            assertRefused(mirror, TarFiles.write(work.resolve("contradicting.tar"), Map.of(configPath, config,
                    "manifest.json", manifestJson.replace("app:1.0", "app:1.0@" + Digest.sha256Of(config)).getBytes())),
                    400, "MANIFEST_INVALID", "whose digest is another manifest's (the digest decides, so tag 1.0");
            assertRefused(mirror, TarFiles.write(work.resolve("invalid-name.tar"), Map.of(configPath, config,
                    "manifest.json", manifestJson.replace("app:1.0", "a..b/app:1.0").getBytes())),
                    400, "MANIFEST_INVALID", "a..b/app:1.0 that is not a valid reference");

            HttpResponse<byte[]> get = mirror.http().send(HttpRequest.newBuilder(mirror.adminUri("/admin/import")).build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            assertEquals(405, get.statusCode());
            assertEquals("POST", get.headers().firstValue("Allow").orElse(null));
            assertRefused(mirror, Files.write(work.resolve("empty.body"), new byte[0]), 400, "BODY_INVALID",
                    "the request has no body");
        }
        try (Stream<Path> files = Files.walk(cache)) {
            List<Path> left = files.filter(Files::isRegularFile)
                    .filter(file -> !cache.relativize(file).toString().equals(".lock")).toList();
            assertEquals(List.of(), left, "nothing is left in the cache");
        }
    }

    @Test
    void importNeedsTheTokenWhereOneIsSet() throws Exception {
        try (MirrorFixture mirror = MirrorFixture.start(upstream.url(), work.resolve("cache-token"),
                Map.of("regmirror.admin.token", "s3cret"))) {
            HttpResponse<byte[]> refused = post(mirror, TarFiles.write(work.resolve("empty.tar"),
                    Map.of("a", new byte[100_000])));
            assertEquals(401, refused.statusCode());
            assertEquals("UNAUTHORIZED", JSON.readTree(refused.body()).path("errors").path(0).path("code").asText());
        }
    }

    /** An archive whose images alone exceed cache.max-size would lose layers to eviction: it is refused up front. */
    @Test
    void anArchiveLargerThanTheCacheCapIsRefused() throws Exception {
        BuiltImage image = TestImages.singleArch(work.resolve("capped"), "1.0", 2, 40_000, 64);
        Path tar = work.resolve("capped.tar");
        skopeo.copy(image.source(), "docker-archive:" + tar + ":app:1.0");
        Path cache = work.resolve("cache-capped");
        try (MirrorFixture mirror = MirrorFixture.start(upstream.url(), cache,
                Map.of("regmirror.cache.max-size", 60_000))) {
            assertRefused(mirror, tar, 400, "BODY_INVALID", "cache.max-size is 60000 bytes");
            assertEquals(404, mirror.get("/v2/library/app/manifests/1.0").statusCode());
        }
        try (Stream<Path> files = Files.walk(new CacheLayout(cache).blobs())) {
            assertEquals(List.of(), files.filter(Files::isRegularFile).toList(), "no blob was written");
        }
    }

    /**
     * Prunes sent over and over while a large import commits its blobs wait for it (imports, purges
     * and prunes run one at a time), so none sees the new blobs before their manifest and tag: every
     * layer of the imported image is served afterwards, with no upstream request.
     */
    @Test
    void prunesDuringAnImportWaitAndTheImageKeepsItsLayers() throws Exception {
        BuiltImage image = TestImages.singleArch(work.resolve("raced"), "1.0", 6, 4_000_000, 65);
        Path tar = work.resolve("raced.tar");
        skopeo.copy(image.source(), "docker-archive:" + tar + ":raced:1.0");
        try (MirrorFixture mirror = MirrorFixture.start(upstream.url(), work.resolve("cache-raced"), Map.of())) {
            upstream.reset();
            var importing = mirror.http().sendAsync(HttpRequest.newBuilder(mirror.adminUri("/admin/import"))
                    .POST(HttpRequest.BodyPublishers.ofFile(tar)).build(), HttpResponse.BodyHandlers.ofByteArray());
            int prunes = 0;
            while (!importing.isDone()) {
                HttpResponse<byte[]> prune = mirror.http().send(HttpRequest.newBuilder(mirror.adminUri("/admin/prune"))
                        .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofByteArray());
                assertEquals(200, prune.statusCode(), new String(prune.body(), StandardCharsets.UTF_8));
                prunes++;
            }
            assertEquals(200, importing.get().statusCode(), new String(importing.get().body(), StandardCharsets.UTF_8));
            assertTrue(prunes > 0);
            HttpResponse<byte[]> manifest = mirror.get("/v2/library/raced/manifests/1.0",
                    "Accept", "application/vnd.docker.distribution.manifest.v2+json");
            assertEquals(200, manifest.statusCode());
            JsonNode layers = JSON.readTree(manifest.body()).path("layers");
            assertEquals(6, layers.size());
            for (JsonNode layer : layers) {
                HttpResponse<byte[]> blob = mirror.get("/v2/library/raced/blobs/" + layer.path("digest").asText());
                assertEquals(200, blob.statusCode(), "layer " + layer.path("digest").asText() + " is cached");
            }
            assertEquals(List.of(), upstream.requests(), "nothing was asked upstream");
        }
    }

    /**
     * With a single disk thread, a pull's disk work is still served while an import is being
     * processed: the import runs on the maintenance executor, not on the shared disk threads. A purge
     * sent meanwhile runs on that executor too, so it is answered only after the import.
     */
    @Test
    void whileAnImportIsProcessedPullsAreServedAndPurgesWait() throws Exception {
        BuiltImage small = TestImages.singleArch(work.resolve("small"), "1.0", 1, 10_000, 66);
        Path smallTar = work.resolve("small.tar");
        skopeo.copy(small.source(), "docker-archive:" + smallTar + ":small:1.0");
        BuiltImage big = TestImages.singleArch(work.resolve("big"), "1.0", 16, 4_000_000, 67);
        Path bigTar = work.resolve("big.tar");
        skopeo.copy(big.source(), "docker-archive:" + bigTar + ":big:1.0");
        Path cache = work.resolve("cache-busy");
        try (MirrorFixture mirror = MirrorFixture.start(upstream.url(), cache,
                Map.of("regmirror.server.disk-threads", 1))) {
            assertEquals(200, post(mirror, smallTar).statusCode());
            String config = "/v2/library/small/blobs/" + small.manifest().config().digest();
            long before = blobFiles(cache);
            var importing = mirror.http().sendAsync(HttpRequest.newBuilder(mirror.adminUri("/admin/import"))
                    .POST(HttpRequest.BodyPublishers.ofFile(bigTar)).build(), HttpResponse.BodyHandlers.ofByteArray());
            while (blobFiles(cache) == before) { // the import has begun committing its blobs
                assertTrue(!importing.isDone(), "the import ended before committing a blob");
                Thread.sleep(2);
            }
            assertEquals(200, mirror.get(config).statusCode());
            assertTrue(!importing.isDone(), "the pull was answered while the import was still running");
            HttpResponse<byte[]> purge = mirror.http().send(HttpRequest.newBuilder(
                    mirror.adminUri("/admin/cache?image=small:1.0&dryRun=true")).DELETE().build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            assertEquals(200, purge.statusCode(), new String(purge.body(), StandardCharsets.UTF_8));
            // The import's own answer may still be on its way; what it wrote is there before the purge ran.
            assertEquals(200, mirror.get("/v2/library/big/manifests/1.0", "Accept",
                    "application/vnd.docker.distribution.manifest.v2+json").statusCode(), "the purge waited for the import");
            assertEquals(200, importing.get().statusCode());
        }
    }

    /** A chunked body with a broken chunk size is not imported as whatever arrived before it. */
    @Test
    void aMalformedChunkedBodyIsRefusedAndNothingIsLeft() throws Exception {
        Path cache = work.resolve("cache-chunked");
        try (MirrorFixture mirror = MirrorFixture.start(upstream.url(), cache, Map.of());
             java.net.Socket socket = new java.net.Socket("127.0.0.1", mirror.adminPort())) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(("POST /admin/import HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz-not-a-size\r\n").getBytes(StandardCharsets.US_ASCII));
            socket.getOutputStream().flush();
            String answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(answer.startsWith("HTTP/1.1 400 "), answer);
            assertTrue(answer.contains("\"code\":\"BODY_INVALID\""), answer);
        }
        try (Stream<Path> files = Files.walk(cache)) {
            List<Path> left = files.filter(Files::isRegularFile)
                    .filter(file -> !cache.relativize(file).toString().equals(".lock")).toList();
            assertEquals(List.of(), left, "nothing is left in the cache, not even in ingest/");
        }
    }

    private static long blobFiles(Path cache) throws IOException {
        try (Stream<Path> files = Files.walk(new CacheLayout(cache).blobs())) {
            return files.filter(Files::isRegularFile).count();
        }
    }

    private static void assertRefused(MirrorFixture mirror, Path archive, int status, String code, String message)
            throws Exception {
        HttpResponse<byte[]> response = post(mirror, archive);
        String body = new String(response.body(), StandardCharsets.UTF_8);
        assertEquals(status, response.statusCode(), body);
        JsonNode error = JSON.readTree(response.body()).path("errors").path(0);
        assertEquals(code, error.path("code").asText(), body);
        assertTrue(error.path("message").asText().contains(message), body);
    }

    private static HttpResponse<byte[]> post(MirrorFixture mirror, Path archive) throws IOException, InterruptedException {
        return mirror.http().send(HttpRequest.newBuilder(mirror.adminUri("/admin/import"))
                .POST(HttpRequest.BodyPublishers.ofFile(archive)).build(), HttpResponse.BodyHandlers.ofByteArray());
    }
}
