package dev.regmirror.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.regmirror.core.config.SettingsException;
import dev.regmirror.core.manifest.Descriptor;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.testing.BuiltImage;
import dev.regmirror.core.testing.Closing;
import dev.regmirror.core.testing.RegistryProcess;
import dev.regmirror.core.testing.S3ProxyProcess;
import dev.regmirror.core.testing.Skopeo;
import dev.regmirror.core.testing.TestImages;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cache in an S3 bucket ({@code regmirror.storage.type = s3}) on a real S3 server (S3Proxy),
 * with a real {@code docker-registry} upstream and skopeo as the client: what is pulled lands in
 * the bucket, and a node with an empty disk, or a second node on the same bucket, serves it
 * without asking the upstream for a blob.
 */
class S3StorageIT {

    @TempDir
    static Path work;

    private static RegistryProcess upstream;
    private static S3ProxyProcess s3;
    private static Skopeo skopeo;
    private static BuiltImage image;

    @BeforeAll
    static void start() throws Exception {
        upstream = RegistryProcess.start();
        s3 = S3ProxyProcess.start();
        skopeo = new Skopeo();
        image = TestImages.singleArch(work.resolve("image"), "1.0", 3, 6_000_000, 41);
        skopeo.copy(image.source(), "docker://" + upstream.hostPort() + "/library/app:1.0");
    }

    @AfterAll
    static void stop() throws Exception {
        Closing.all(skopeo, s3, upstream);
    }

    private static Map<String, Object> onS3(String bucket) {
        return s3.storageSettings(bucket, "mirror/");
    }

    private static List<Digest> blobsOf(BuiltImage built) {
        List<Digest> digests = new ArrayList<>();
        built.manifest().layers().forEach(layer -> digests.add(layer.digest()));
        digests.add(built.manifest().config().digest());
        return digests;
    }

    private static void assertPulledExactly(Path dir) throws IOException {
        assertEquals(image.digest(), Digest.sha256Of(Files.readAllBytes(dir.resolve("manifest.json"))));
        List<Descriptor> blobs = new ArrayList<>(image.manifest().layers());
        blobs.add(image.manifest().config());
        for (Descriptor blob : blobs) {
            assertEquals(blob.digest(), Digest.sha256Of(Files.readAllBytes(dir.resolve(blob.digest().hex()))));
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

    @Test
    void pulledBlobsLandInTheBucketAndNodesWithEmptyDisksServeThemWithoutTheUpstream() throws Exception {
        s3.createBucket("pulls");
        upstream.reset();
        try (MirrorFixture first = MirrorFixture.start(upstream.url(), work.resolve("node-1"), onS3("pulls"))) {
            Path pulled = work.resolve("pulled-1");
            skopeo.copyToDir("docker://" + first.hostPort() + "/app:1.0", pulled);
            assertPulledExactly(pulled);
            first.awaitFillsCommitted();
            assertEquals(3 + 1, upstream.blobGets().size(), "each blob fetched once: " + upstream.blobGets());
        }
        List<String> stored = s3.storedKeys("pulls");
        for (Digest blob : blobsOf(image)) {
            String key = "mirror/blobs/sha256/" + blob.hex().substring(0, 2) + "/" + blob.hex();
            assertTrue(stored.contains(key), key + " in " + stored);
        }
        assertTrue(stored.contains("mirror/blobs/sha256/" + image.digest().hex().substring(0, 2) + "/"
                + image.digest().hex()), "the manifest's bytes: " + stored);
        assertTrue(stored.stream().anyMatch(key -> key.startsWith("mirror/tags/docker.io/library/app/:1.0")), stored.toString());
        assertEquals(0, filesIn(work.resolve("node-1/blobs")), "no blob kept on the node's disk");

        // A node started on the bucket with an empty disk, and a second one beside it.
        upstream.reset();
        try (MirrorFixture restarted = MirrorFixture.start(upstream.url(), work.resolve("node-2"), onS3("pulls"));
             MirrorFixture beside = MirrorFixture.start(upstream.url(), work.resolve("node-3"), onS3("pulls"))) {
            for (MirrorFixture node : List.of(restarted, beside)) {
                Path pulled = work.resolve("pulled-" + node.port());
                skopeo.copyToDir("docker://" + node.hostPort() + "/app:1.0", pulled);
                assertPulledExactly(pulled);
                HttpRange.assertRange(node, "/v2/library/app/blobs/" + image.manifest().layers().get(0).digest());
            }
            assertEquals(List.of(), upstream.blobGets(), "no blob asked of the upstream");
        }
    }

    @Test
    void whileTheStoreIsDownPullsStreamThroughAndOnceItIsBackCachingResumes() throws Exception {
        s3.createBucket("outage");
        Map<String, Object> settings = new java.util.HashMap<>(onS3("outage"));
        settings.put("regmirror.cache.storage-retry", "1s");
        try (MirrorFixture node = MirrorFixture.start(upstream.url(), work.resolve("node-outage"), settings)) {
            upstream.reset();
            s3.stop();
            try {
                Path during = work.resolve("pulled-during-outage");
                skopeo.copyToDir("docker://" + node.hostPort() + "/app:1.0", during);
                assertPulledExactly(during);
                assertEquals(4, upstream.blobGets().size(), "streamed through from the upstream");
                var notReady = node.get("/readyz");
                assertEquals(503, notReady.statusCode());
                String reason = new String(notReady.body(), java.nio.charset.StandardCharsets.UTF_8);
                assertTrue(reason.contains("cannot reach " + s3.endpoint()), reason);
                assertTrue(node.meters().counter("regmirror.blobs.uncached").count() >= 4, "counted as uncached");
            } finally {
                s3.restart();
            }
            Thread.sleep(1_500); // the storage-retry spell
            assertEquals(200, node.get("/readyz").statusCode(), "ready again once the store answers");
            upstream.reset();
            Path after = work.resolve("pulled-after-outage");
            skopeo.copyToDir("docker://" + node.hostPort() + "/app:1.0", after);
            assertPulledExactly(after);
            node.awaitFillsCommitted();
            List<String> stored = s3.storedKeys("outage");
            for (Digest blob : blobsOf(image)) {
                assertTrue(stored.contains("mirror/blobs/sha256/" + blob.hex().substring(0, 2) + "/" + blob.hex()),
                        blob + " cached once the store is back: " + stored);
            }
        }
    }

    @Test
    void withRedirectsAHitIsA307ToAPresignedUrlWhileHeadsAndPullsWork() throws Exception {
        s3.createBucket("redirects");
        Map<String, Object> settings = new java.util.HashMap<>(onS3("redirects"));
        settings.put("regmirror.storage.s3.redirect", true);
        settings.put("regmirror.storage.s3.redirect-ttl", "2m");
        try (MirrorFixture node = MirrorFixture.start(upstream.url(), work.resolve("node-redirects"), settings)) {
            skopeo.copyToDir("docker://" + node.hostPort() + "/app:1.0", work.resolve("pulled-redirects-1"));
            node.awaitFillsCommitted();
            Descriptor layer = image.manifest().layers().get(0);
            String path = "/v2/library/app/blobs/" + layer.digest();
            java.net.http.HttpClient noFollow = java.net.http.HttpClient.newBuilder()
                    .followRedirects(java.net.http.HttpClient.Redirect.NEVER).build();
            var hit = noFollow.send(node.request(path).build(), java.net.http.HttpResponse.BodyHandlers.ofByteArray());
            assertEquals(307, hit.statusCode());
            assertEquals(layer.digest().toString(), hit.headers().firstValue("Docker-Content-Digest").orElse(""));
            java.net.URI location = java.net.URI.create(hit.headers().firstValue("Location").orElseThrow());
            assertEquals(s3.endpoint().getPort(), location.getPort(), location.toString());
            assertTrue(location.getRawQuery().contains("X-Amz-Signature="), location.toString());
            assertTrue(location.getRawQuery().contains("X-Amz-Expires=120"), location.toString());
            assertFalse(location.toString().contains(S3ProxyProcess.SECRET_KEY));
            var fetched = noFollow.send(java.net.http.HttpRequest.newBuilder(location).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofByteArray());
            assertEquals(200, fetched.statusCode());
            assertEquals(layer.digest(), Digest.sha256Of(fetched.body()), "the presigned URL gives the layer");

            var head = node.head(path);
            assertEquals(200, head.statusCode(), "HEAD is answered by regmirror");
            assertEquals(String.valueOf(layer.size()), head.headers().firstValue("Content-Length").orElse(""));

            upstream.reset();
            Path pulled = work.resolve("pulled-redirects-2");
            skopeo.copyToDir("docker://" + node.hostPort() + "/app:1.0", pulled);
            assertPulledExactly(pulled);
            assertEquals(List.of(), upstream.blobGets(), "the client followed the redirects to the bucket");
        }
    }

    @Test
    void aMissingBucketStopsStartUpNamingTheSetting() {
        SettingsException e = assertThrows(SettingsException.class,
                () -> MirrorFixture.start(upstream.url(), work.resolve("node-missing"), onS3("never-created")));
        assertTrue(e.getMessage().startsWith("regmirror.storage.s3.bucket: bucket \"never-created\" does not exist at "),
                e.getMessage());
        assertFalse(e.getMessage().contains(S3ProxyProcess.SECRET_KEY));
    }

    /** A Range of a blob served from the bucket is answered as from disk. */
    private static final class HttpRange {
        static void assertRange(MirrorFixture node, String path) throws IOException, InterruptedException {
            var whole = node.get(path);
            assertEquals(200, whole.statusCode());
            var part = node.get(path, "Range", "bytes=100-199");
            assertEquals(206, part.statusCode());
            assertEquals("bytes 100-199/" + whole.body().length, part.headers().firstValue("Content-Range").orElse(""));
            assertEquals(java.util.Arrays.toString(java.util.Arrays.copyOfRange(whole.body(), 100, 200)),
                    java.util.Arrays.toString(part.body()));
        }
    }
}
