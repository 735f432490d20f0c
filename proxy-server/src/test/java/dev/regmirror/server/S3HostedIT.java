package dev.regmirror.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.testing.BuiltImage;
import dev.regmirror.core.testing.Closing;
import dev.regmirror.core.testing.ImageFormat;
import dev.regmirror.core.testing.RegistryProcess;
import dev.regmirror.core.testing.S3ProxyProcess;
import dev.regmirror.core.testing.Skopeo;
import dev.regmirror.core.testing.TestCredentials;
import dev.regmirror.core.testing.TestImages;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hosted repositories on S3 ({@code regmirror.storage.type = s3}) on a real S3 server (S3Proxy),
 * with a real {@code docker-registry} upstream and skopeo: what is pushed (single and multi-arch)
 * lands in the bucket, links and tags included, and pulls back byte for byte; a second node on the
 * same bucket with an empty disk serves it and lists its tags without a push to it; a purge of
 * everything and a cap keep it; prune, on another node than the push's, collects a hosted blob
 * nothing references from the bucket.
 */
class S3HostedIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String ALICE = "Basic " + Base64.getEncoder()
            .encodeToString("alice:alice-pw".getBytes(StandardCharsets.UTF_8));

    @TempDir
    static Path work;

    private static RegistryProcess upstream;
    private static S3ProxyProcess s3;
    private static Skopeo skopeo;
    private static BuiltImage single;
    private static BuiltImage multi;
    private static BuiltImage big;
    private static Path htpasswd;

    @BeforeAll
    static void start() throws Exception {
        upstream = RegistryProcess.start();
        s3 = S3ProxyProcess.start();
        skopeo = new Skopeo();
        single = TestImages.singleArch(work.resolve("single"), "1.0", 3, 300_000, 901);
        multi = TestImages.multiArch(work.resolve("multi"), "2.0", List.of("linux/amd64", "linux/arm64/v8"), 2,
                100_000, 902, ImageFormat.DOCKER_V2S2);
        big = TestImages.singleArch(work.resolve("big"), "1.0", 3, 600_000, 903);
        skopeo.copy(big.source(), "docker://" + upstream.hostPort() + "/library/big:1.0");
        htpasswd = Files.writeString(work.resolve("htpasswd"), TestCredentials.htpasswdLine("alice", "alice-pw") + "\n");
    }

    @AfterAll
    static void stop() throws Exception {
        Closing.all(skopeo, s3, upstream);
    }

    /** A node on the bucket hosting {@code local/lan/...}, where alice may push and anyone pull. */
    private static Map<String, Object> hostingOnS3(String bucket) {
        Map<String, Object> settings = s3.storageSettings(bucket, "mirror/");
        settings.put("regmirror.auth.htpasswd", htpasswd.toString());
        settings.put("regmirror.hosted.namespaces", List.of("lan"));
        settings.put("regmirror.auth.rules", List.of(
                Map.of("images", List.of("local/lan/**"), "actions", List.of("push"), "allow", List.of("alice")),
                Map.of("images", List.of("**"), "allow", List.of("anonymous"))));
        return settings;
    }

    @Test
    void pushedImagesLiveInTheBucketAndASecondNodeWithAnEmptyDiskServesThem() throws Exception {
        s3.createBucket("hosted");
        upstream.reset();
        try (MirrorFixture first = MirrorFixture.start(upstream.url(), work.resolve("node-1"), hostingOnS3("hosted"))) {
            skopeo.copy(single.source(), via(first, "lan/app:1.0"), "--dest-creds", "alice:alice-pw");
            skopeo.copy(multi.source(), via(first, "lan/multi:2.0"), "--all", "--dest-creds", "alice:alice-pw");
            assertPulledBack(first, "lan/app:1.0", single, "first");
            assertMultiPulledBack(first, "first");
        }
        List<String> stored = s3.storedKeys("hosted");
        assertTrue(stored.contains("mirror/hosted/repositories/lan/app/_tags/1.0"), stored.toString());
        assertTrue(stored.contains("mirror/hosted/repositories/lan/multi/_manifests/sha256/" + multi.digest().hex()),
                stored.toString());
        for (var blob : single.blobs()) {
            assertTrue(stored.contains("mirror/hosted/repositories/lan/app/_blobs/sha256/" + blob.digest().hex()),
                    blob.digest() + " linked in " + stored);
            assertTrue(stored.contains("mirror/blobs/sha256/" + blob.digest().hex().substring(0, 2) + "/"
                    + blob.digest().hex()), blob.digest() + " stored in " + stored);
        }
        assertEquals(0, filesIn(work.resolve("node-1/blobs")), "no blob kept on the node's disk");
        assertEquals(0, filesIn(work.resolve("node-1/hosted")), "no link, tag or upload left on the node's disk");

        // Another node on the bucket, its disk empty: it was pushed nothing, and serves it all.
        try (MirrorFixture second = MirrorFixture.start(upstream.url(), work.resolve("node-2"), hostingOnS3("hosted"))) {
            assertPulledBack(second, "lan/app:1.0", single, "second");
            assertMultiPulledBack(second, "second");
            JsonNode tags = JSON.readTree(second.get("/v2/lan/app/tags/list").body());
            assertEquals("lan/app", tags.path("name").asText());
            assertEquals("[\"1.0\"]", tags.path("tags").toString());
            assertEquals(404, second.get("/v2/lan/nothing/tags/list").statusCode());
        }
        assertEquals(List.of(), upstream.requests().stream().map(request -> request.path())
                .filter(path -> path.contains("/lan/")).toList(), "hosted names never reach the upstream");
    }

    @Test
    void aCapAndAPurgeOfEverythingKeepHostedImagesAndPruneCollectsAnOrphanFromTheBucket() throws Exception {
        s3.createBucket("hosted-gc");
        Map<String, Object> settings = hostingOnS3("hosted-gc");
        settings.put("regmirror.cache.max-size", "1M");
        settings.put("regmirror.hosted.upload-timeout", "3s"); // Last-Modified counts whole seconds
        try (MirrorFixture node = MirrorFixture.start(upstream.url(), work.resolve("node-gc"), settings);
             MirrorFixture other = MirrorFixture.start(upstream.url(), work.resolve("node-gc-2"), settings)) {
            skopeo.copy(single.source(), via(node, "lan/kept:1.0"), "--dest-creds", "alice:alice-pw");
            // 1.8 MB of cached layers through a 1 MiB cap: cached content is evicted, hosted content stays.
            skopeo.copyToDir(via(node, "library/big:1.0"), work.resolve("big-pulled"));
            node.awaitFillsCommitted();
            assertEquals(200, admin(node, "DELETE", "/admin/cache?all=true").statusCode());
            assertPulledBack(node, "lan/kept:1.0", single, "kept");

            byte[] orphan = "a blob no manifest will name".getBytes(StandardCharsets.UTF_8);
            Digest digest = Digest.sha256Of(orphan);
            HttpResponse<String> uploaded = node.http().send(node.request("/v2/lan/kept/blobs/uploads/?digest=" + digest)
                    .header("Authorization", ALICE).POST(HttpRequest.BodyPublishers.ofByteArray(orphan)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(201, uploaded.statusCode(), uploaded.body());
            String blobKey = "mirror/blobs/sha256/" + digest.hex().substring(0, 2) + "/" + digest.hex();
            String linkKey = "mirror/hosted/repositories/lan/kept/_blobs/sha256/" + digest.hex();
            assertTrue(s3.storedKeys("hosted-gc").containsAll(List.of(blobKey, linkKey)), s3.storedKeys("hosted-gc").toString());

            JsonNode early = JSON.readTree(admin(node, "POST", "/admin/prune").body());
            assertFalse(early.path("hostedBlobLinks").toString().contains(digest.toString()),
                    "within the upload timeout a manifest may still come: " + early);
            assertEquals(200, node.get("/v2/lan/kept/blobs/" + digest).statusCode());

            Thread.sleep(4_000); // past the upload timeout
            // Pruned by the other node, which started before the orphan was pushed to the first.
            JsonNode pruned = JSON.readTree(admin(other, "POST", "/admin/prune").body());
            assertTrue(pruned.path("hostedBlobLinks").toString().contains("local/lan/kept@" + digest), pruned.toString());
            assertTrue(pruned.path("blobs").toString().contains(digest.toString()), pruned.toString());
            List<String> after = s3.storedKeys("hosted-gc");
            assertFalse(after.contains(blobKey), "the orphan's bytes are deleted from the bucket: " + after);
            assertFalse(after.contains(linkKey), "and its link: " + after);
            HttpResponse<byte[]> gone = node.get("/v2/lan/kept/blobs/" + digest);
            assertEquals(404, gone.statusCode());
            assertTrue(new String(gone.body(), StandardCharsets.UTF_8).contains("BLOB_UNKNOWN"));
            assertPulledBack(node, "lan/kept:1.0", single, "kept-after-prune");
        }
    }

    private static void assertPulledBack(MirrorFixture from, String image, BuiltImage expected, String dir)
            throws Exception {
        assertEquals(expected.digest(), skopeo.inspectDigest(via(from, image)));
        Path back = work.resolve(dir + "-back");
        skopeo.copyToDir(via(from, image), back);
        for (var blob : expected.blobs()) {
            assertEquals(blob.digest(), Digest.sha256Of(Files.readAllBytes(back.resolve(blob.digest().hex()))));
        }
    }

    private static void assertMultiPulledBack(MirrorFixture from, String dir) throws Exception {
        assertEquals(multi.digest(), skopeo.inspectDigest(via(from, "lan/multi:2.0")));
        Path back = work.resolve(dir + "-multi-back");
        skopeo.copy(via(from, "lan/multi:2.0"), "dir:" + back, "--all");
        for (var manifest : multi.manifests()) {
            assertEquals(manifest.digest(), Digest.sha256Of(Files.readAllBytes(back.resolve(manifest.digest().hex()
                    + ".manifest.json"))));
        }
        for (var blob : multi.blobs()) {
            assertEquals(blob.digest(), Digest.sha256Of(Files.readAllBytes(back.resolve(blob.digest().hex()))));
        }
    }

    private static long filesIn(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile).count();
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
