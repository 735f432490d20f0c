package dev.regmirror.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.regmirror.core.manifest.Descriptor;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.storage.CacheLayout;
import dev.regmirror.core.testing.BuiltImage;
import dev.regmirror.core.testing.BuiltManifest;
import dev.regmirror.core.testing.Closing;
import dev.regmirror.core.testing.LoggedRequest;
import dev.regmirror.core.testing.RegistryProcess;
import dev.regmirror.core.testing.Skopeo;
import dev.regmirror.core.testing.TestCredentials;
import dev.regmirror.core.testing.TestImages;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code GET /admin/export} against a real server whose docker.io is a real registry: an image
 * pulled through the mirror with skopeo comes back as a tar skopeo reads as a docker-archive and as
 * an oci-archive, with the image's digests, from the cache alone (no upstream request), and so does
 * an image pushed to a hosted repository; a tag or a blob the cache lacks is 404 before any byte of
 * a tar; a slow reader holds the writer, not the server's memory.
 */
class ExportIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int BIG_LAYER = 64_000_000;

    @TempDir
    static Path work;

    private static RegistryProcess upstream;
    private static Skopeo skopeo;
    /** library/app:1.0, two layers, one larger than the loopback socket buffers. */
    private static BuiltImage app;
    /** team/web:2.0, an index of linux/amd64 and linux/arm64. */
    private static BuiltImage web;
    /** library/big:1.0, one layer far larger than the loopback socket buffers. */
    private static BuiltImage big;

    @BeforeAll
    static void pushImages() throws Exception {
        upstream = RegistryProcess.start();
        skopeo = new Skopeo();
        app = TestImages.singleArch(work.resolve("app"), "1.0", 2, 12_000_000, 51);
        web = TestImages.multiArch(work.resolve("web"), "2.0", List.of("linux/amd64", "linux/arm64"), 2, 100_000, 52);
        skopeo.copy(app.source(), "docker://" + upstream.hostPort() + "/library/app:1.0");
        skopeo.copy(web.source(), "docker://" + upstream.hostPort() + "/team/web:2.0", "--all");
        big = TestImages.singleArch(work.resolve("big"), "1.0", 1, BIG_LAYER, 53);
        skopeo.copy(big.source(), "docker://" + upstream.hostPort() + "/library/big:1.0");
    }

    @AfterAll
    static void stop() throws Exception {
        Closing.all(skopeo, upstream);
    }

    @Test
    void aPulledImageIsExportedFromTheCacheWithItsDigests() throws Exception {
        try (MirrorFixture mirror = MirrorFixture.start(upstream.url(), work.resolve("cache-app"), Map.of())) {
            skopeo.copyToDir("docker://" + mirror.hostPort() + "/app:1.0", work.resolve("pulled-app"));
            mirror.awaitFillsCommitted();
            int blobGets = upstream.blobGets().size();

            Path tar = work.resolve("app.tar");
            HttpResponse<Path> export = mirror.http().send(HttpRequest.newBuilder(
                    mirror.adminUri("/admin/export?image=app:1.0")).GET().build(), HttpResponse.BodyHandlers.ofFile(tar));
            assertEquals(200, export.statusCode());
            assertEquals("application/x-tar", export.headers().firstValue("content-type").orElseThrow());
            assertEquals("attachment; filename=\"app_1.0.tar\"",
                    export.headers().firstValue("content-disposition").orElseThrow());

            assertEquals(app.digest(), skopeo.inspectDigest("oci-archive:" + tar), "the original manifest bytes");
            BuiltManifest built = app.manifest();
            JsonNode manifest = JSON.readTree(skopeo.inspectRaw("docker-archive:" + tar));
            assertEquals(built.config().digest().toString(), manifest.path("config").path("digest").asText());
            List<String> layers = new ArrayList<>();
            manifest.path("layers").forEach(layer -> layers.add(layer.path("digest").asText()));
            assertEquals(built.diffIds().stream().map(Digest::toString).toList(), layers,
                    "docker-archive names layers by their uncompressed digests, the config's diff_ids");
            Path copied = work.resolve("copied-app");
            skopeo.copyToDir("oci-archive:" + tar, copied);
            for (Descriptor layer : built.layers()) {
                assertTrue(Files.exists(copied.resolve(layer.digest().hex())), "layer " + layer.digest() + " with its digest");
            }
            assertEquals(blobGets, upstream.blobGets().size(), "an export reads the cache only");
        }
    }

    @Test
    void anIndexIsExportedAsTheImageOfTheAskedPlatform() throws Exception {
        try (MirrorFixture mirror = MirrorFixture.start(upstream.url(), work.resolve("cache-web"), Map.of())) {
            skopeo.copyToOci("docker://" + mirror.hostPort() + "/team/web:2.0", work.resolve("pulled-web"), "2.0", "--all");
            mirror.awaitFillsCommitted();

            Path tar = work.resolve("web.tar");
            HttpResponse<Path> export = mirror.http().send(HttpRequest.newBuilder(mirror.adminUri(
                    "/admin/export?image=team/web:2.0&platform=linux/arm64")).GET().build(), HttpResponse.BodyHandlers.ofFile(tar));
            assertEquals(200, export.statusCode());
            BuiltManifest arm = web.manifestFor("linux/arm64");
            assertEquals(arm.digest(), skopeo.inspectDigest("oci-archive:" + tar));
            skopeo.copyToDir("docker-archive:" + tar, work.resolve("copied-web"));
        }
    }

    /**
     * A client that reads slowly: the server's pooled direct memory (the same JVM) stays far below
     * the layer's size, since the writer waits for the connection instead of queueing the tar; and
     * the registry API answers meanwhile (no event loop waits for the export).
     */
    @Test
    void aSlowClientHoldsTheWriterNotTheServersMemory() throws Exception {
        try (MirrorFixture mirror = MirrorFixture.start(upstream.url(), work.resolve("cache-big"), Map.of())) {
            skopeo.copyToDir("docker://" + mirror.hostPort() + "/big:1.0", work.resolve("pulled-big"));
            mirror.awaitFillsCommitted();
            io.netty.buffer.PooledByteBufAllocatorMetric memory =
                    ((io.netty.buffer.PooledByteBufAllocator) io.netty.buffer.ByteBufAllocator.DEFAULT).metric();
            // What the JVM's pool holds already (earlier tests in this JVM leave chunks behind): the export adds to it.
            long before = memory.usedDirectMemory();

            HttpResponse<java.io.InputStream> export = mirror.http().send(HttpRequest.newBuilder(
                    mirror.adminUri("/admin/export?image=big:1.0")).GET().build(), HttpResponse.BodyHandlers.ofInputStream());
            assertEquals(200, export.statusCode());
            long most = 0;
            long total = 0;
            java.security.MessageDigest tarHash = java.security.MessageDigest.getInstance("SHA-256");
            Path tar = work.resolve("big.tar");
            try (java.io.InputStream body = export.body(); java.io.OutputStream out = Files.newOutputStream(tar)) {
                byte[] buffer = new byte[256 * 1024];
                int n;
                while ((n = body.read(buffer)) > 0) {
                    out.write(buffer, 0, n);
                    tarHash.update(buffer, 0, n);
                    total += n;
                    if (total < 8_000_000) {
                        Thread.sleep(20); // a slow start: the server is far ahead of the reader
                        most = Math.max(most, memory.usedDirectMemory() - before);
                        if (total < 1_000_000) {
                            assertEquals(200, mirror.get("/v2/").statusCode(), "the registry API answers during the export");
                        }
                    }
                }
            }
            assertTrue(total > BIG_LAYER, "the whole tar: " + total);
            assertTrue(most < BIG_LAYER / 2, "pooled direct memory stays flat, at most " + most + " bytes more than the "
                    + before + " held before the export");
            assertEquals(big.digest(), skopeo.inspectDigest("oci-archive:" + tar));
        }
    }

    /**
     * A hosted image, pushed with skopeo, is exported from its repository as a pull of it reads it:
     * by its pull name, and by the catalog's (the hosted registry in {@code ns}, as the console
     * links it); a tag not pushed, or a manifest of another repository, is 404 MANIFEST_UNKNOWN.
     */
    @Test
    void aHostedImageIsExportedFromItsRepository() throws Exception {
        Path htpasswd = Files.writeString(work.resolve("htpasswd"), TestCredentials.htpasswdLine("alice", "alice-pw") + "\n");
        Map<String, Object> settings = new HashMap<>();
        settings.put("regmirror.auth.htpasswd", htpasswd.toString());
        settings.put("regmirror.hosted.namespaces", List.of("lan"));
        settings.put("regmirror.auth.rules", List.of(
                Map.of("images", List.of("local/lan/**"), "actions", List.of("push"), "allow", List.of("alice")),
                Map.of("images", List.of("**"), "allow", List.of("anonymous"))));
        try (MirrorFixture mirror = MirrorFixture.start(upstream.url(), work.resolve("cache-hosted"), settings)) {
            skopeo.copy(app.source(), "docker://" + mirror.hostPort() + "/lan/app:1.0", "--dest-creds", "alice:alice-pw");
            skopeo.copy(web.source(), "docker://" + mirror.hostPort() + "/lan/web:2.0", "--all",
                    "--dest-creds", "alice:alice-pw");
            int blobGets = upstream.blobGets().size();

            for (String query : List.of("image=lan/app:1.0", "image=lan/app:1.0&ns=local")) {
                Path tar = work.resolve("hosted-app-" + query.length() + ".tar");
                HttpResponse<Path> export = mirror.http().send(HttpRequest.newBuilder(mirror.adminUri(
                        "/admin/export?" + query)).GET().build(), HttpResponse.BodyHandlers.ofFile(tar));
                assertEquals(200, export.statusCode(), query);
                assertEquals("attachment; filename=\"app_1.0.tar\"",
                        export.headers().firstValue("content-disposition").orElseThrow());
                assertEquals(app.digest(), skopeo.inspectDigest("oci-archive:" + tar), query);
                Path copied = work.resolve("copied-hosted-app-" + query.length());
                skopeo.copyToDir("docker-archive:" + tar, copied);
            }
            Path tar = work.resolve("hosted-web.tar");
            HttpResponse<Path> export = mirror.http().send(HttpRequest.newBuilder(mirror.adminUri(
                    "/admin/export?image=lan/web:2.0&platform=linux/arm64&format=oci")).GET().build(),
                    HttpResponse.BodyHandlers.ofFile(tar));
            assertEquals(200, export.statusCode());
            assertEquals(web.manifestFor("linux/arm64").digest(), skopeo.inspectDigest("oci-archive:" + tar));
            assertEquals(blobGets, upstream.blobGets().size(), "a hosted export never asks the upstream");
            assertEquals(List.of(), upstream.requests().stream().map(LoggedRequest::path)
                    .filter(path -> path.contains("/lan/")).toList(), "hosted names never reach the upstream");

            assertError(mirror, "/admin/export?image=lan/app:2.0", "MANIFEST_UNKNOWN");
            assertError(mirror, "/admin/export?image=lan/web@" + app.digest(), "MANIFEST_UNKNOWN");
            assertError(mirror, "/admin/export?image=app:1.0", "MANIFEST_UNKNOWN"); // the mirrored name: not cached
        }
    }

    @Test
    void whatTheCacheLacksIs404BeforeAnyTar() throws Exception {
        Path cache = work.resolve("cache-missing");
        try (MirrorFixture mirror = MirrorFixture.start(upstream.url(), cache, Map.of())) {
            assertError(mirror, "/admin/export?image=app:1.0", "MANIFEST_UNKNOWN");

            skopeo.copyToDir("docker://" + mirror.hostPort() + "/app:1.0", work.resolve("pulled-app-2"));
            mirror.awaitFillsCommitted();
            Digest layer = app.manifest().layers().get(1).digest();
            Files.delete(new CacheLayout(cache).blob(layer));
            JsonNode error = assertError(mirror, "/admin/export?image=docker.io/library/app:1.0", "BLOB_UNKNOWN");
            assertTrue(error.get("message").asText().contains(layer.toString()), error.toString());

            assertError(mirror, "/admin/export?image=app:1.0&format=zip", "PARAMETER_INVALID");
        }
    }

    private static JsonNode assertError(MirrorFixture mirror, String path, String code) throws Exception {
        HttpResponse<byte[]> response = mirror.http().send(HttpRequest.newBuilder(mirror.adminUri(path)).GET().build(),
                HttpResponse.BodyHandlers.ofByteArray());
        JsonNode error = JSON.readTree(response.body()).get("errors").get(0);
        assertEquals(code, error.get("code").asText(), new String(response.body()));
        assertEquals(code.equals("PARAMETER_INVALID") ? 400 : 404, response.statusCode());
        return error;
    }
}
