package dev.regmirror.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.storage.CacheLayout;
import dev.regmirror.core.testing.BuiltImage;
import dev.regmirror.core.testing.Closing;
import dev.regmirror.core.testing.RegistryProcess;
import dev.regmirror.core.testing.Skopeo;
import dev.regmirror.core.testing.TestCredentials;
import dev.regmirror.core.testing.TestImages;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hosted content beside the cache's rules: a cap that evicts cached images and a purge of
 * everything leave pushed images whole; prune collects a hosted blob nothing references once the
 * upload timeout is past, and never one a push still needs, even when prunes race real pushes;
 * {@code /admin/usage} and {@code /admin/images} show hosted repositories as such, and an archive
 * naming a hosted image imports into its hosted repository.
 */
class HostedGcIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String ALICE = "Basic " + Base64.getEncoder()
            .encodeToString("alice:alice-pw".getBytes(StandardCharsets.UTF_8));

    @TempDir
    static Path work;

    private static RegistryProcess upstream;
    private static Skopeo skopeo;
    private static MirrorFixture mirror;
    private static BuiltImage pushed;
    private static BuiltImage big;
    private static Map<String, Object> settings;

    @BeforeAll
    static void start() throws Exception {
        upstream = RegistryProcess.start();
        skopeo = new Skopeo();
        pushed = TestImages.singleArch(work.resolve("pushed"), "1.0", 2, 300_000, 701);
        big = TestImages.singleArch(work.resolve("big"), "1.0", 3, 600_000, 702);
        skopeo.copy(big.source(), "docker://" + upstream.hostPort() + "/library/big:1.0");
        Path htpasswd = Files.writeString(work.resolve("htpasswd"),
                TestCredentials.htpasswdLine("alice", "alice-pw") + "\n");
        settings = new HashMap<>();
        settings.put("regmirror.auth.htpasswd", htpasswd.toString());
        settings.put("regmirror.hosted.namespaces", List.of("lan"));
        settings.put("regmirror.auth.rules", List.of(
                Map.of("images", List.of("local/lan/**"), "actions", List.of("push"), "allow", List.of("alice")),
                Map.of("images", List.of("**"), "allow", List.of("anonymous"))));
        Map<String, Object> capped = new HashMap<>(settings);
        capped.put("regmirror.cache.max-size", "1M");
        capped.put("regmirror.hosted.upload-timeout", "1s");
        mirror = MirrorFixture.start(upstream.url(), work.resolve("cache"), capped);
    }

    @AfterAll
    static void stop() throws Exception {
        Closing.all(mirror, skopeo, upstream);
    }

    @Test
    void hostedImagesOutliveTheCapAndAPurgeOfEverything() throws Exception {
        skopeo.copy(pushed.source(), via(mirror, "lan/kept:1.0"), "--dest-creds", "alice:alice-pw");
        // 1.8 MB of cached layers through a 1 MiB cap: cached content is evicted, hosted content stays.
        skopeo.copyToDir(via(mirror, "library/big:1.0"), work.resolve("big-pulled"));
        assertEquals(200, admin(mirror, "DELETE", "/admin/cache?all=true").statusCode());

        assertPulledBack(mirror, "lan/kept:1.0", pushed, "kept");

        JsonNode usage = JSON.readTree(admin(mirror, "GET", "/admin/usage").body());
        assertTrue(usage.path("hostedRepositories").asInt() >= 1, usage.toString());
        assertTrue(usage.path("hostedBytes").asLong() >= pushed.layers().size() * 300_000L, usage.toString());
        JsonNode images = JSON.readTree(admin(mirror, "GET", "/admin/images?prefix=local/lan/kept").body());
        JsonNode kept = images.path("repositories").path(0);
        assertEquals("local/lan/kept", kept.path("name").asText(), images.toString());
        assertTrue(kept.path("hosted").asBoolean());
        assertEquals(pushed.digest().toString(), kept.path("tags").path(0).path("digest").asText());

        HttpResponse<String> purge = admin(mirror, "DELETE", "/admin/cache?image=lan/kept:1.0");
        assertEquals(403, purge.statusCode(), purge.body());
        assertTrue(purge.body().contains("\"DENIED\""), purge.body());
    }

    @Test
    void aRestartOverTheCapKeepsHostedContent() throws Exception {
        Path cache = work.resolve("restart-cache");
        Map<String, Object> capped = new HashMap<>(settings);
        capped.put("regmirror.cache.max-size", "1M");
        try (MirrorFixture first = MirrorFixture.start(upstream.url(), cache, capped)) {
            skopeo.copy(pushed.source(), via(first, "lan/restarted:1.0"), "--dest-creds", "alice:alice-pw");
            skopeo.copyToDir(via(first, "library/big:1.0"), work.resolve("big-before-restart"));
        }
        // On disk: 0.6 MB hosted beside up to 1 MiB cached. A start that evicted before it knew what
        // is hosted would take the oldest files, the hosted layers among them.
        try (MirrorFixture second = MirrorFixture.start(upstream.url(), cache, capped)) {
            assertPulledBack(second, "lan/restarted:1.0", pushed, "restarted");
        }
    }

    @Test
    void pruneCollectsAHostedBlobNothingReferencesOnceTheUploadTimeoutIsPast() throws Exception {
        skopeo.copy(pushed.source(), via(mirror, "lan/gc:1.0"), "--dest-creds", "alice:alice-pw");
        byte[] orphan = "a blob no manifest will name".getBytes(StandardCharsets.UTF_8);
        Digest digest = Digest.sha256Of(orphan);
        HttpResponse<String> uploaded = mirror.http().send(mirror.request("/v2/lan/gc/blobs/uploads/?digest=" + digest)
                .header("Authorization", ALICE).POST(HttpRequest.BodyPublishers.ofByteArray(orphan)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(201, uploaded.statusCode(), uploaded.body());

        JsonNode early = JSON.readTree(admin(mirror, "POST", "/admin/prune").body());
        assertFalse(early.path("hostedBlobLinks").toString().contains(digest.toString()),
                "within the upload timeout a manifest may still come: " + early);
        assertEquals(200, mirror.get("/v2/lan/gc/blobs/" + digest).statusCode());

        Thread.sleep(1_500);
        JsonNode dry = JSON.readTree(admin(mirror, "POST", "/admin/prune?dryRun=true").body());
        assertTrue(dry.path("hostedBlobLinks").toString().contains("local/lan/gc@" + digest), dry.toString());
        assertTrue(dry.path("blobs").toString().contains(digest.toString()), dry.toString());
        assertEquals(200, mirror.get("/v2/lan/gc/blobs/" + digest).statusCode(), "a dry run removes nothing");

        JsonNode pruned = JSON.readTree(admin(mirror, "POST", "/admin/prune").body());
        assertTrue(pruned.path("blobs").toString().contains(digest.toString()), pruned.toString());
        HttpResponse<byte[]> gone = mirror.get("/v2/lan/gc/blobs/" + digest);
        assertEquals(404, gone.statusCode());
        assertTrue(new String(gone.body(), StandardCharsets.UTF_8).contains("BLOB_UNKNOWN"));
        assertFalse(Files.exists(new CacheLayout(work.resolve("cache")).blob(digest)), "the file is deleted");
        assertPulledBack(mirror, "lan/gc:1.0", pushed, "gc");
    }

    @Test
    void prunesRacingPushesNeverTakeWhatAPushNeeds() throws Exception {
        // The default upload timeout: what is under test is a blob stored and not yet linked.
        try (MirrorFixture racing = MirrorFixture.start(upstream.url(), work.resolve("race-cache"), settings)) {
            AtomicBoolean pushing = new AtomicBoolean(true);
            AtomicInteger prunes = new AtomicInteger();
            ExecutorService pruner = Executors.newSingleThreadExecutor();
            Future<?> loop = pruner.submit(() -> {
                while (pushing.get()) {
                    HttpResponse<String> prune = admin(racing, "POST", "/admin/prune");
                    assertEquals(200, prune.statusCode(), prune.body());
                    prunes.incrementAndGet();
                }
                return null;
            });
            List<BuiltImage> images = new ArrayList<>();
            try {
                for (int i = 0; i < 4; i++) {
                    BuiltImage image = TestImages.singleArch(work.resolve("race-" + i), "1.0", 3, 100_000, 710 + i);
                    images.add(image);
                    skopeo.copy(image.source(), via(racing, "lan/race" + i + ":1.0"), "--dest-creds",
                            "alice:alice-pw");
                }
            } finally {
                pushing.set(false);
                loop.get();
                pruner.shutdown();
            }
            assertTrue(prunes.get() > 1, "prunes ran while pushing: " + prunes.get());
            admin(racing, "POST", "/admin/prune");
            for (int i = 0; i < images.size(); i++) {
                assertPulledBack(racing, "lan/race" + i + ":1.0", images.get(i), "race-back-" + i);
            }
        }
    }

    @Test
    void anArchiveNamingAHostedImageImportsIntoItsHostedRepository() throws Exception {
        BuiltImage image = TestImages.singleArch(work.resolve("archived"), "1.0", 2, 50_000, 720);
        Path tar = work.resolve("archived.tar");
        // Named as `regmirror export lan/imported:1.0` names it (docker save would write docker.io/lan/…).
        skopeo.copy(image.source(), "oci-archive:" + tar + ":lan/imported:1.0");
        HttpResponse<String> imported = mirror.http().send(HttpRequest.newBuilder(mirror.adminUri("/admin/import"))
                .POST(HttpRequest.BodyPublishers.ofFile(tar)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, imported.statusCode(), imported.body());
        assertEquals("local/lan/imported", JSON.readTree(imported.body()).path("images").path(0).path("name").asText());

        assertEquals(200, admin(mirror, "DELETE", "/admin/cache?all=true").statusCode());
        JsonNode images = JSON.readTree(admin(mirror, "GET", "/admin/images?prefix=local/lan/imported").body());
        assertTrue(images.path("repositories").path(0).path("hosted").asBoolean(), images.toString());
        Path pulled = work.resolve("imported-back");
        skopeo.copyToDir(via(mirror, "lan/imported:1.0"), pulled);
        for (var layer : image.layers()) {
            assertEquals(layer.digest(), Digest.sha256Of(Files.readAllBytes(pulled.resolve(layer.digest().hex()))));
        }
    }

    private static void assertPulledBack(MirrorFixture from, String image, BuiltImage expected, String dir)
            throws Exception {
        assertEquals(expected.digest(), skopeo.inspectDigest(via(from, image)));
        Path back = work.resolve(dir + "-back");
        skopeo.copyToDir(via(from, image), back);
        for (var layer : expected.layers()) {
            assertEquals(layer.digest(), Digest.sha256Of(Files.readAllBytes(back.resolve(layer.digest().hex()))));
        }
    }

    private static String via(MirrorFixture fixture, String image) {
        return "docker://" + fixture.hostPort() + "/" + image;
    }

    private static HttpResponse<String> admin(MirrorFixture fixture, String method, String path) throws Exception {
        return fixture.http().send(HttpRequest.newBuilder(fixture.adminUri(path))
                .method(method, HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    }
}
