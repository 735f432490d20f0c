package dev.regmirror.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.regmirror.core.manifest.Descriptor;
import dev.regmirror.core.manifest.MediaTypes;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.storage.CacheLayout;
import dev.regmirror.core.testing.BuiltImage;
import dev.regmirror.core.testing.BuiltManifest;
import dev.regmirror.core.testing.Closing;
import dev.regmirror.core.testing.LoggedRequest;
import dev.regmirror.core.testing.RegistryProcess;
import dev.regmirror.core.testing.Skopeo;
import dev.regmirror.core.testing.TestImages;
import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code DELETE /admin/cache} and {@code POST /admin/prune} against a real server whose docker.io
 * is a real registry, images pulled through regmirror with skopeo: what is purged is gone from disk
 * and from the usage figures, what another image shares stays and is served without an upstream
 * request, a purged image is fetched again with the same digest, and a download in progress
 * survives the purge of its blob.
 */
class PurgeIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int BIG_LAYER = 48_000_000;

    @TempDir
    static Path work;

    private static RegistryProcess upstream;
    private static Skopeo skopeo;
    /** library/app:1.0, two layers; its first layer is also web's. */
    private static BuiltImage app;
    /** team/web:2.0, an index of one linux/amd64 image sharing app's first layer. */
    private static BuiltImage web;
    /** library/big:1.0, one layer larger than the loopback socket buffers. */
    private static BuiltImage big;
    private static byte[] loose;
    private static int caches;

    @BeforeAll
    static void pushImages() throws Exception {
        upstream = RegistryProcess.start();
        skopeo = new Skopeo();
        app = TestImages.singleArch(work.resolve("app"), "1.0", 2, 100_000, 41);
        web = TestImages.multiArch(work.resolve("web"), "2.0", List.of("linux/amd64"), 2, 100_000, 41);
        big = TestImages.singleArch(work.resolve("big"), "1.0", 1, BIG_LAYER, 43);
        assertEquals(shared(), web.manifests().get(0).layers().get(0), "the images share a layer");
        skopeo.copy(app.source(), "docker://" + upstream.hostPort() + "/library/app:1.0");
        skopeo.copy(web.source(), "docker://" + upstream.hostPort() + "/team/web:2.0", "--all");
        skopeo.copy(big.source(), "docker://" + upstream.hostPort() + "/library/big:1.0");
        loose = new byte[30_000];
        new Random(44).nextBytes(loose);
        AdminIT.upload(upstream.url(), "library/loose", loose);
    }

    @AfterAll
    static void stop() throws Exception {
        Closing.all(skopeo, upstream);
    }

    @Test
    void purgingOneImageKeepsTheLayerAnotherSharesAndTheOtherNeedsNoUpstreamBlob() throws Exception {
        Path cache = newCache();
        try (MirrorFixture mirror = MirrorFixture.start(upstream.url(), cache, Map.of())) {
            pullApp(mirror);
            pullWeb(mirror);

            HttpResponse<byte[]> purged = delete(mirror, "/admin/cache?image=app:1.0", null);
            assertEquals(200, purged.statusCode(), new String(purged.body()));
            JsonNode answer = JSON.readTree(purged.body());
            assertFalse(answer.get("dryRun").asBoolean());
            assertEquals(List.of("docker.io/library/app:1.0"), texts(answer.get("tags")));
            assertEquals(Set.of(app.digest()), digests(answer.get("manifests")));
            BuiltManifest appImage = app.manifest();
            assertEquals(Set.of(appImage.config().digest(), appImage.layers().get(1).digest()), digests(answer.get("blobs")));
            assertEquals(Set.of(shared().digest()), digests(answer.get("keptBlobs")));
            assertEquals(List.of("docker.io/library/app"), texts(answer.get("repositories")));
            assertEquals(app.top().size() + appImage.config().size() + appImage.layers().get(1).size(),
                    answer.get("bytesFreed").asLong());

            assertFalse(Files.exists(blobFile(cache, app.digest())));
            assertFalse(Files.exists(blobFile(cache, appImage.config().digest())));
            assertFalse(Files.exists(blobFile(cache, appImage.layers().get(1).digest())));
            assertTrue(Files.exists(blobFile(cache, shared().digest())), "web still uses it");
            assertUsageIsWhatIsOnDisk(mirror, cache);
            JsonNode images = JSON.readTree(admin(mirror, "/admin/images").body());
            assertEquals(List.of("docker.io/team/web"), StreamSupport.stream(images.get("repositories").spliterator(), false)
                    .map(repository -> repository.get("name").asText()).toList());
            assertEquals("{\"repositories\":[\"docker.io/team/web\"]}", new String(mirror.get("/v2/_catalog").body()));

            upstream.reset();
            pullWeb(mirror);
            assertEquals(List.of(), upstream.blobGets(), "web's blobs, the shared one too, are all still cached");

            upstream.reset();
            HttpResponse<byte[]> manifest = mirror.get("/v2/library/app/manifests/1.0", "Accept", MediaTypes.ACCEPT_ALL_HEADER);
            assertEquals(200, manifest.statusCode());
            assertEquals(app.digest().toString(), manifest.headers().firstValue("Docker-Content-Digest").orElseThrow());
            pullApp(mirror);
            assertEquals(Set.of(appImage.config().digest(), appImage.layers().get(1).digest()), blobGetDigests(),
                    "the purged blobs are fetched again, the shared one is not");
            assertEquals(1, upstream.count("GET", "/v2/library/app/manifests/" + app.digest()),
                    "the purged manifest too: " + upstream.requests());
        }
    }

    @Test
    void purgeByDigestRepositoryUpstreamAndAll() throws Exception {
        Path cache = newCache();
        try (MirrorFixture mirror = MirrorFixture.start(upstream.url(), cache, Map.of())) {
            pullApp(mirror);
            pullWeb(mirror);
            long before = usage(mirror).get("totalBytes").asLong();
            BuiltManifest webImage = web.manifests().get(0);

            JsonNode dry = JSON.readTree(delete(mirror, "/admin/cache?image=team/web@" + web.digest() + "&dryRun=true",
                    null).body());
            assertTrue(dry.get("dryRun").asBoolean());
            assertEquals(Set.of(web.digest(), webImage.digest()), digests(dry.get("manifests")));
            assertEquals(before, usage(mirror).get("totalBytes").asLong(), "a dry run removes nothing");

            HttpResponse<byte[]> byDigest = delete(mirror, "/admin/cache?image=docker.io/team/web@" + web.digest(), null);
            assertEquals(200, byDigest.statusCode(), new String(byDigest.body()));
            JsonNode answer = JSON.readTree(byDigest.body());
            assertEquals(dry.get("manifests"), answer.get("manifests"));
            assertEquals(List.of("docker.io/team/web:2.0"), texts(answer.get("tags")));
            assertEquals(Set.of(webImage.config().digest(), webImage.layers().get(1).digest()), digests(answer.get("blobs")));
            assertEquals(Set.of(shared().digest()), digests(answer.get("keptBlobs")));
            assertUsageIsWhatIsOnDisk(mirror, cache);

            HttpResponse<byte[]> repository = delete(mirror, "/admin/cache?image=docker.io/library/app", null);
            assertEquals(200, repository.statusCode(), new String(repository.body()));
            assertTrue(digests(JSON.readTree(repository.body()).get("blobs")).contains(shared().digest()),
                    "nothing uses the shared layer any more");
            assertEquals(0, usage(mirror).get("totalBytes").asLong());

            pullApp(mirror);
            pullWeb(mirror);
            HttpResponse<byte[]> registry = delete(mirror, "/admin/cache?upstream=docker.io", null);
            assertEquals(200, registry.statusCode(), new String(registry.body()));
            assertEquals(Set.of("docker.io/library/app:1.0", "docker.io/team/web:2.0"),
                    Set.copyOf(texts(JSON.readTree(registry.body()).get("tags"))));
            assertEquals(0, usage(mirror).get("totalBytes").asLong());

            pullApp(mirror);
            assertEquals(200, mirror.get("/v2/library/loose/blobs/" + Digest.sha256Of(loose)).statusCode());
            mirror.awaitFillsCommitted();
            HttpResponse<byte[]> all = delete(mirror, "/admin/cache?all=true", null);
            assertEquals(200, all.statusCode(), new String(all.body()));
            assertTrue(digests(JSON.readTree(all.body()).get("blobs")).contains(Digest.sha256Of(loose)));
            JsonNode empty = usage(mirror);
            assertEquals(0, empty.get("totalBytes").asLong(), empty.toString());
            assertEquals(0, empty.get("blobs").asLong(), empty.toString());
            assertEquals(0, empty.get("manifests").asLong(), empty.toString());
            assertEquals("{\"repositories\":[]}", new String(mirror.get("/v2/_catalog").body()));
            HttpResponse<byte[]> again = delete(mirror, "/admin/cache?all=true", null);
            assertEquals(200, again.statusCode(), "everything of an empty cache is nothing, not an error");
            assertEquals(0, JSON.readTree(again.body()).get("bytesFreed").asLong());
        }
    }

    @Test
    void withATagAndADigestTheDigestDecidesAndATagPointingElsewhereIsNotFound() throws Exception {
        Path cache = newCache();
        try (MirrorFixture mirror = MirrorFixture.start(upstream.url(), cache, Map.of())) {
            pullApp(mirror);
            pullWeb(mirror);
            long before = usage(mirror).get("totalBytes").asLong();

            HttpResponse<byte[]> elsewhere = delete(mirror, "/admin/cache?image=app:1.0@" + web.digest(), null);
            assertError(elsewhere, 404, "MANIFEST_UNKNOWN");
            assertTrue(new String(elsewhere.body()).contains("tag 1.0 points to " + app.digest()),
                    new String(elsewhere.body()));
            assertError(delete(mirror, "/admin/cache?image=app:2.0@" + app.digest(), null), 404, "MANIFEST_UNKNOWN");
            assertEquals(before, usage(mirror).get("totalBytes").asLong(), "a refused purge removes nothing");

            HttpResponse<byte[]> both = delete(mirror, "/admin/cache?image=docker.io/library/app:1.0@" + app.digest(), null);
            assertEquals(200, both.statusCode(), new String(both.body()));
            JsonNode answer = JSON.readTree(both.body());
            assertEquals(List.of("docker.io/library/app:1.0"), texts(answer.get("tags")));
            assertEquals(Set.of(app.digest()), digests(answer.get("manifests")));
            assertEquals(Set.of(shared().digest()), digests(answer.get("keptBlobs")));
            assertEquals("{\"repositories\":[\"docker.io/team/web\"]}", new String(mirror.get("/v2/_catalog").body()));
        }
    }

    @Test
    void badSelectorsAndMethodsAreRegistryErrors() throws Exception {
        try (MirrorFixture mirror = MirrorFixture.start(upstream.url(), newCache(), Map.of())) {
            pullApp(mirror);
            assertError(delete(mirror, "/admin/cache", null), 400, "NAME_INVALID");
            assertError(delete(mirror, "/admin/cache?image=app:1.0&all=true", null), 400, "NAME_INVALID");
            assertError(delete(mirror, "/admin/cache?all=yes", null), 400, "NAME_INVALID");
            assertError(delete(mirror, "/admin/cache?image=App:1.0", null), 400, "NAME_INVALID");
            assertError(delete(mirror, "/admin/cache?image=app:-1", null), 400, "TAG_INVALID");
            assertError(delete(mirror, "/admin/cache?image=app@sha256:abc", null), 400, "DIGEST_INVALID");
            assertError(delete(mirror, "/admin/cache?image=app:1.0@sha256:abc", null), 400, "DIGEST_INVALID");
            assertError(delete(mirror, "/admin/cache?image=a..b/app:1.0", null), 400, "NAME_INVALID");
            assertError(delete(mirror, "/admin/cache?image=app:1.0&dryRun=maybe", null), 400, "NAME_INVALID");
            assertError(delete(mirror, "/admin/cache?image=registry.example.com/org/app:1.0", null), 404, "NAME_UNKNOWN");
            assertError(delete(mirror, "/admin/cache?upstream=registry.example.com", null), 404, "NAME_UNKNOWN");
            assertError(delete(mirror, "/admin/cache?image=app:2.0", null), 404, "MANIFEST_UNKNOWN");
            assertError(delete(mirror, "/admin/cache?image=quay.io/org/app:1.0", null), 404, "MANIFEST_UNKNOWN");
            assertEquals(200, delete(mirror, "/admin/cache?upstream=quay.io", null).statusCode(), "configured, nothing cached");
            assertError(delete(mirror, "/admin/cache?image=library/nothing", null), 404, "NAME_UNKNOWN");
            HttpResponse<byte[]> get = admin(mirror, "/admin/cache?image=app:1.0");
            assertError(get, 405, "UNSUPPORTED");
            assertEquals("DELETE", get.headers().firstValue("Allow").orElseThrow());
            HttpResponse<byte[]> prune = admin(mirror, "/admin/prune");
            assertError(prune, 405, "UNSUPPORTED");
            assertEquals("POST", prune.headers().firstValue("Allow").orElseThrow());
            assertEquals(app.digest().toString(), JSON.readTree(admin(mirror, "/admin/images").body())
                    .get("repositories").get(0).get("tags").get(0).get("digest").asText(), "nothing was purged");
        }
    }

    @Test
    void withATokenConfiguredPurgeAndPruneNeedIt() throws Exception {
        Path cache = newCache();
        try (MirrorFixture mirror = MirrorFixture.start(upstream.url(), cache, Map.of("regmirror.admin.token", "s3cret"))) {
            pullApp(mirror);
            HttpResponse<byte[]> without = delete(mirror, "/admin/cache?all=true", null);
            assertError(without, 401, "UNAUTHORIZED");
            assertError(post(mirror, "/admin/prune", "wrong"), 401, "UNAUTHORIZED");
            assertTrue(Files.exists(blobFile(cache, app.digest())), "nothing was removed");
            HttpResponse<byte[]> with = delete(mirror, "/admin/cache?all=true", "s3cret");
            assertEquals(200, with.statusCode(), new String(with.body()));
            assertFalse(Files.exists(blobFile(cache, app.digest())));
        }
    }

    /**
     * A cached blob goes out zero-copy from a channel opened before the purge: the purge unlinks the
     * file, and the client still receives every byte. The layer is larger than the loopback send
     * and receive buffers can hold, so most of it is still in the file when the purge runs.
     */
    @Test
    void aDownloadInProgressSurvivesThePurgeOfItsBlob() throws Exception {
        Path cache = newCache();
        try (MirrorFixture mirror = MirrorFixture.start(upstream.url(), cache, Map.of())) {
            skopeo.copyToDir("docker://" + mirror.hostPort() + "/big:1.0", work.resolve("pulled-big-" + caches));
            Descriptor layer = big.manifest().layers().get(0);
            assertTrue(Files.exists(blobFile(cache, layer.digest())));

            HttpResponse<InputStream> download = mirror.http().send(mirror.request("/v2/library/big/blobs/"
                    + layer.digest()).GET().build(), HttpResponse.BodyHandlers.ofInputStream());
            assertEquals(200, download.statusCode());
            MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
            long received = 0;
            try (InputStream body = download.body()) {
                byte[] buffer = new byte[64 * 1024];
                while (received < 1_000_000) {
                    int read = body.read(buffer);
                    sha256.update(buffer, 0, read);
                    received += read;
                }
                HttpResponse<byte[]> purged = delete(mirror, "/admin/cache?image=big:1.0", null);
                assertEquals(200, purged.statusCode(), new String(purged.body()));
                assertTrue(digests(JSON.readTree(purged.body()).get("blobs")).contains(layer.digest()));
                assertFalse(Files.exists(blobFile(cache, layer.digest())), "the file is unlinked");
                for (int read = body.read(buffer); read >= 0; read = body.read(buffer)) {
                    sha256.update(buffer, 0, read);
                    received += read;
                }
            }
            assertEquals(layer.size(), received);
            assertEquals(layer.digest().toString(), "sha256:" + HexFormat.of().formatHex(sha256.digest()));
            assertUsageIsWhatIsOnDisk(mirror, cache);
        }
    }

    @Test
    void pruneRemovesUntaggedManifestsAndLooseBlobsOnly() throws Exception {
        Path cache = newCache();
        try (MirrorFixture mirror = MirrorFixture.start(upstream.url(), cache, Map.of())) {
            pullApp(mirror);
            assertEquals(200, mirror.get("/v2/library/loose/blobs/" + Digest.sha256Of(loose)).statusCode());
            mirror.awaitFillsCommitted();
            BuiltManifest webImage = web.manifests().get(0);
            assertEquals(200, mirror.get("/v2/team/web/manifests/" + webImage.digest(), "Accept",
                    MediaTypes.ACCEPT_ALL_HEADER).statusCode());
            assertEquals(200, mirror.get("/v2/team/web/blobs/" + webImage.config().digest()).statusCode());
            mirror.awaitFillsCommitted();
            assertEquals(loose.length, usage(mirror).get("reclaimableBytes").asLong());

            JsonNode dry = JSON.readTree(post(mirror, "/admin/prune?dryRun=true", null).body());
            assertTrue(dry.get("dryRun").asBoolean());
            assertTrue(Files.exists(blobFile(cache, Digest.sha256Of(loose))), "a dry run removes nothing");

            HttpResponse<byte[]> pruned = post(mirror, "/admin/prune", null);
            assertEquals(200, pruned.statusCode(), new String(pruned.body()));
            JsonNode answer = JSON.readTree(pruned.body());
            assertEquals(dry.get("manifests"), answer.get("manifests"));
            assertEquals(dry.get("blobs"), answer.get("blobs"));
            assertEquals(Set.of(webImage.digest()), digests(answer.get("manifests")));
            assertEquals(Set.of(Digest.sha256Of(loose), webImage.config().digest()), digests(answer.get("blobs")));
            assertEquals(List.of(), texts(answer.get("tags")));
            assertEquals(webImage.manifest().size() + webImage.config().size() + loose.length,
                    answer.get("bytesFreed").asLong());
            JsonNode after = usage(mirror);
            assertEquals(0, after.get("reclaimableBytes").asLong(), after.toString());
            assertUsageIsWhatIsOnDisk(mirror, cache);

            upstream.reset();
            pullApp(mirror);
            assertEquals(List.of(), upstream.blobGets(), "the tagged image kept every blob");
            HttpResponse<byte[]> nothing = post(mirror, "/admin/prune", null);
            assertEquals(0, JSON.readTree(nothing.body()).get("bytesFreed").asLong());
        }
    }

    private static Descriptor shared() {
        return app.manifest().layers().get(0);
    }

    private static synchronized Path newCache() {
        return work.resolve("cache-" + (++caches));
    }

    /** Pulls app:1.0 through the mirror, and waits until its blobs are committed to the cache (they may end just after the pull). */
    private static void pullApp(MirrorFixture mirror) throws Exception {
        skopeo.copyToDir("docker://" + mirror.hostPort() + "/app:1.0", work.resolve("pulled-app-" + System.nanoTime()));
        mirror.awaitFillsCommitted();
    }

    private static void pullWeb(MirrorFixture mirror) throws Exception {
        skopeo.copyToOci("docker://" + mirror.hostPort() + "/team/web:2.0", work.resolve("pulled-web-" + System.nanoTime()),
                "2.0", "--all");
        mirror.awaitFillsCommitted();
    }

    private static Set<Digest> blobGetDigests() {
        Set<Digest> digests = new HashSet<>();
        for (LoggedRequest request : upstream.blobGets()) {
            digests.add(Digest.parse(request.path().substring(request.path().lastIndexOf('/') + 1)));
        }
        return digests;
    }

    private static void assertUsageIsWhatIsOnDisk(MirrorFixture mirror, Path cache) throws Exception {
        JsonNode usage = usage(mirror);
        List<Path> files;
        try (Stream<Path> walk = Files.walk(new CacheLayout(cache).blobs())) {
            files = walk.filter(Files::isRegularFile).toList();
        }
        long bytes = 0;
        for (Path file : files) {
            bytes += Files.size(file);
        }
        assertEquals(bytes, usage.get("totalBytes").asLong(), usage.toString());
        assertEquals(files.size(), usage.get("blobs").asLong(), usage.toString());
    }

    private static void assertError(HttpResponse<byte[]> response, int status, String code) throws IOException {
        assertEquals(status, response.statusCode(), new String(response.body()));
        JsonNode error = JSON.readTree(response.body()).get("errors").get(0);
        assertEquals(code, error.get("code").asText(), error.toString());
        assertFalse(error.get("message").asText().isEmpty());
    }

    private static JsonNode usage(MirrorFixture mirror) throws Exception {
        return JSON.readTree(admin(mirror, "/admin/usage").body());
    }

    private static HttpResponse<byte[]> admin(MirrorFixture mirror, String path) throws Exception {
        return send(mirror, HttpRequest.newBuilder(mirror.adminUri(path)).GET(), null);
    }

    private static HttpResponse<byte[]> delete(MirrorFixture mirror, String path, String token) throws Exception {
        return send(mirror, HttpRequest.newBuilder(mirror.adminUri(path)).DELETE(), token);
    }

    private static HttpResponse<byte[]> post(MirrorFixture mirror, String path, String token) throws Exception {
        return send(mirror, HttpRequest.newBuilder(mirror.adminUri(path)).POST(HttpRequest.BodyPublishers.noBody()), token);
    }

    private static HttpResponse<byte[]> send(MirrorFixture mirror, HttpRequest.Builder request, String token)
            throws Exception {
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return mirror.http().send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    private static Path blobFile(Path cache, Digest digest) {
        return new CacheLayout(cache).blob(digest);
    }

    private static List<String> texts(JsonNode array) {
        List<String> texts = new ArrayList<>();
        array.forEach(node -> texts.add(node.asText()));
        return texts;
    }

    private static Set<Digest> digests(JsonNode items) {
        Set<Digest> digests = new HashSet<>();
        items.forEach(item -> digests.add(Digest.parse(item.get("digest").asText())));
        return digests;
    }
}
