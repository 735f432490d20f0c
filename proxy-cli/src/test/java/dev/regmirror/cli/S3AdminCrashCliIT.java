package dev.regmirror.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.regmirror.core.manifest.Descriptor;
import dev.regmirror.core.manifest.MediaTypes;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.testing.BuiltImage;
import dev.regmirror.core.testing.BuiltManifest;
import dev.regmirror.core.testing.FaultProxy;
import dev.regmirror.core.testing.RegistryProcess;
import dev.regmirror.core.testing.S3Bucket;
import dev.regmirror.core.testing.S3ProxyProcess;
import dev.regmirror.core.testing.Skopeo;
import dev.regmirror.core.testing.TestImages;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The built jar on an S3 bucket (S3Proxy) killed with SIGKILL in the middle of an import and of a
 * purge, the store slowed by a {@link FaultProxy} that stalls each of its answers, so that the kill
 * lands while the operation is under way: whatever the bucket holds afterwards is whole and right,
 * nothing half-imported is served, the restart aborts the import's upload, every image still tagged
 * pulls with its digests, and running the operation again (with a prune for what a purge's removed
 * tags no longer reach) finishes the job with a clean verify.
 */
class S3AdminCrashCliIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String PREFIX = S3Nodes.PREFIX;
    /** Every answer of the store stalled 100 to 400 ms: a part upload or a delete takes at least 100 ms. */
    private static final int MAX_STALL_MILLIS = 400;
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2)).build();

    @TempDir
    static Path work;

    private static RegistryProcess upstream;
    private static S3ProxyProcess s3;
    /** The nodes' way to the store; a plain proxy until a test slows it. */
    private static FaultProxy slowStore;
    private static Skopeo skopeo;

    @BeforeAll
    static void start() throws Exception {
        upstream = RegistryProcess.start();
        s3 = S3ProxyProcess.start();
        slowStore = FaultProxy.start(s3.endpoint(), FaultProxy.seedFrom("regmirror.s3crash.seed"), 0, MAX_STALL_MILLIS);
        slowStore.faults(FaultProxy.Fault.STALL);
        skopeo = new Skopeo();
    }

    @AfterAll
    static void stop() {
        for (AutoCloseable closeable : new AutoCloseable[] {skopeo, slowStore, s3, upstream}) {
            try {
                if (closeable != null) {
                    closeable.close();
                }
            } catch (Exception e) {
                // closing anyway
            }
        }
    }

    @Test
    void anImportKilledMidUploadLeavesNothingServedAndRunsWholeAgain() throws Exception {
        BuiltImage big = TestImages.singleArch(work.resolve("big"), "1.0", 1, 30_000_000, 71);
        Path archive = work.resolve("big.tar");
        skopeo.copy(big.source(), "oci-archive:" + archive + ":library/big:1.0");
        String layerKey = S3Bucket.blobKey(PREFIX, big.layers().get(0).digest());
        s3.createBucket("import");
        int port = RegmirrorProcess.freePort();
        int adminPort = RegmirrorProcess.freePort();
        Path config = S3Nodes.config(work, slowStore.uri(), "import", port, adminPort, upstream.url());
        try (S3Bucket bucket = new S3Bucket(s3, "import")) {
            CompletableFuture<HttpResponse<String>> importing;
            RegmirrorProcess mirror = RegmirrorProcess.serveAfterKill(work, config, port);
            try {
                S3Nodes.awaitListening(adminPort);
                slowStore.faultRate(1);
                importing = HTTP.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + "/admin/import"))
                        .header("Content-Type", "application/x-tar").POST(HttpRequest.BodyPublishers.ofFile(archive))
                        .build(), HttpResponse.BodyHandlers.ofString());
                // Begun, and recorded by the node (the record follows the store's answer, stalled meanwhile).
                await(() -> bucket.uploadsInProgress().contains(layerKey) && recorded(work.resolve("import")),
                        "the layer's upload to begin", mirror);
            } finally {
                mirror.kill();
                slowStore.faultRate(0);
            }

            assertEquals(List.of(layerKey), bucket.uploadsInProgress(), "killed while the layer was uploading");
            assertTrue(bucket.size(layerKey).isEmpty(), "no object under the layer's digest");
            assertWholeAndRight(bucket, "import");
            assertEquals(List.of(), bucket.keys(PREFIX + "tags/"), "no tag recorded");
            assertEquals(List.of(), bucket.keys(PREFIX + "manifests/"), "no manifest recorded");
            assertTrue(bucket.size(S3Bucket.blobKey(PREFIX, big.digest())).isEmpty(), "nor its bytes");
            Object answer = importing.handle((response, failure) -> failure != null ? failure : response.statusCode())
                    .get(30, TimeUnit.SECONDS);
            assertTrue(answer instanceof Throwable, "the import was cut off, not answered: " + answer);

            try (RegmirrorProcess restarted = RegmirrorProcess.serveAfterKill(work, config, port)) {
                assertEquals(List.of(), bucket.uploadsInProgress(), "the start aborted the import's upload");
                assertTrue(restarted.output().contains("aborted 1 unfinished upload"), restarted.output());
                upstream.reset();
                HttpResponse<byte[]> byTag = get(restarted.uri("/v2/library/big/manifests/1.0"));
                assertTrue(byTag.statusCode() == 404 || byTag.statusCode() == 503,
                        "no half image: " + byTag.statusCode() + " " + new String(byTag.body()));

                S3Nodes.awaitListening(adminPort);
                RegmirrorProcess.Finished again = RegmirrorProcess.run(work, List.of(), "import", archive.toString(),
                        "--server", "http://127.0.0.1:" + adminPort);
                assertEquals(0, again.exitCode(), again.output() + restarted.output());
                assertEquals(big.layers().get(0).size(), bucket.size(layerKey).orElse(-1), "stored whole");
                assertEquals(List.of(), bucket.uploadsInProgress());
                upstream.reset();
                assertPulls(port, "library/big:1.0", big);
                assertEquals(0, upstream.requests().stream().filter(r -> r.path().contains("/library/big/")).count(),
                        "served from the import alone: " + upstream.requests());
            }
        }
    }

    @Test
    void aPurgeKilledMidDeleteLeavesEveryTaggedImageWholeAndAPruneFinishesIt() throws Exception {
        BuiltImage gone1 = TestImages.singleArch(work.resolve("gone1"), "1.0", 2, 1_000_000, 81);
        BuiltImage gone2 = TestImages.singleArch(work.resolve("gone2"), "2.0", 2, 1_000_000, 82);
        BuiltImage kept = TestImages.multiArch(work.resolve("kept"), "1.0", List.of("linux/amd64"), 2, 1_000_000, 81);
        Digest shared = gone1.layers().get(0).digest();
        assertEquals(shared, kept.manifests().get(0).layers().get(0).digest(), "kept shares gone:1.0's first layer");
        Map<String, BuiltImage> images = new LinkedHashMap<>();
        images.put("docker.io/library/gone:1.0", gone1);
        images.put("docker.io/library/gone:2.0", gone2);
        images.put("docker.io/library/kept:1.0", kept);
        for (Map.Entry<String, BuiltImage> image : images.entrySet()) {
            skopeo.copy(image.getValue().source(), "docker://" + upstream.hostPort() + "/"
                    + image.getKey().substring("docker.io/".length()), "--all");
        }
        Set<String> goneKeys = new TreeSet<>();
        for (BuiltImage image : List.of(gone1, gone2)) {
            goneKeys.addAll(keys(image));
        }
        goneKeys.removeAll(keys(kept));
        assertEquals(7, goneKeys.size(), "two manifests, two configs, three own layers: " + goneKeys);

        s3.createBucket("purge");
        int port = RegmirrorProcess.freePort();
        int adminPort = RegmirrorProcess.freePort();
        String server = "http://127.0.0.1:" + adminPort;
        Path config = S3Nodes.config(work, slowStore.uri(), "purge", port, adminPort, upstream.url());
        try (S3Bucket bucket = new S3Bucket(s3, "purge")) {
            CompletableFuture<HttpResponse<String>> purging;
            RegmirrorProcess mirror = RegmirrorProcess.serveAfterKill(work, config, port);
            try {
                for (String image : images.keySet()) {
                    assertPulls(port, image.substring("docker.io/".length()), images.get(image));
                }
                mirror.awaitFillsCommitted();
                assertTrue(bucket.keys(PREFIX + "blobs/").containsAll(goneKeys), "all cached");
                S3Nodes.awaitListening(adminPort);
                slowStore.faultRate(1);
                purging = HTTP.sendAsync(HttpRequest.newBuilder(URI.create(server + "/admin/cache?image=library/gone"))
                        .DELETE().build(), HttpResponse.BodyHandlers.ofString());
                await(() -> !bucket.keys(PREFIX + "blobs/").containsAll(goneKeys), "the purge's first blob delete",
                        mirror);
            } finally {
                mirror.kill();
                slowStore.faultRate(0);
            }

            List<String> left = new ArrayList<>(goneKeys);
            left.retainAll(bucket.keys(PREFIX + "blobs/"));
            System.out.println("S3AdminCrashCliIT: the purge killed with " + left.size() + " of its " + goneKeys.size()
                    + " blobs left (" + slowStore.summary() + ")");
            assertFalse(left.isEmpty(), "the kill landed before the purge's last delete");
            assertTrue(left.size() < goneKeys.size(), "and after its first");
            assertWholeAndRight(bucket, "purge");
            Object answer = purging.handle((response, failure) -> failure != null ? failure : response.statusCode())
                    .get(30, TimeUnit.SECONDS);
            assertTrue(answer instanceof Throwable, "the purge was cut off, not answered: " + answer);

            try (RegmirrorProcess restarted = RegmirrorProcess.serveAfterKill(work, config, port)) {
                S3Nodes.awaitListening(adminPort);
                List<String> tagged = tagged(server);
                System.out.println("S3AdminCrashCliIT: still tagged after the restart: " + tagged);
                assertTrue(tagged.contains("docker.io/library/kept:1.0"), tagged.toString());
                for (String image : tagged) {
                    assertPullsFetchingOnlyWhatIsMissing(bucket, port, image, images.get(image));
                }
                // gone:2.0 half purged and no longer tagged: asked of the upstream, blobs left in the bucket served.
                assertPullsFetchingOnlyWhatIsMissing(bucket, port, "docker.io/library/gone:2.0", gone2);
                restarted.awaitFillsCommitted();

                RegmirrorProcess.Finished purge = RegmirrorProcess.run(work, List.of(), "purge", "library/gone",
                        "--server", server);
                assertEquals(0, purge.exitCode(), purge.output());
                RegmirrorProcess.Finished prune = RegmirrorProcess.run(work, List.of(), "prune", "--server", server);
                assertEquals(0, prune.exitCode(), prune.output());
                List<String> blobs = bucket.keys(PREFIX + "blobs/");
                assertTrue(blobs.stream().noneMatch(goneKeys::contains), "the purge finished: " + blobs);
                assertTrue(blobs.containsAll(keys(kept)), "kept whole: " + blobs);
                assertEquals(List.of(), bucket.keys(PREFIX + "tags/docker.io/library/gone/"));
                assertEquals(List.of(), bucket.keys(PREFIX + "repositories/docker.io/library/gone/"));
                assertEquals(List.of("docker.io/library/kept:1.0"), tagged(server));

                RegmirrorProcess.Finished verify = RegmirrorProcess.run(work, List.of(), "verify", "--wait",
                        "--server", server);
                assertEquals(0, verify.exitCode(), verify.output());
                assertTrue(verify.output().contains("corrupt blobs: none"), verify.output());
                assertTrue(verify.output().contains("missing references: none"), verify.output());
            }
        }
    }

    /** Polls, every 20 ms for at most 20 s, until the condition holds. */
    private static void await(BooleanSupplier condition, String what, RegmirrorProcess mirror) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("waited 20 s for " + what + ":\n" + mirror.output());
            }
            Thread.sleep(20);
        }
    }

    /** Whether the node of this cache directory has recorded an upload it began. */
    private static boolean recorded(Path cacheDirectory) {
        try (var records = Files.list(cacheDirectory.resolve("bucket-uploads"))) {
            return records.findAny().isPresent();
        } catch (java.io.IOException none) {
            return false;
        }
    }

    /** Every object under {@code blobs/} hashes to its key, read from S3Proxy's own files. */
    private static void assertWholeAndRight(S3Bucket bucket, String name) throws Exception {
        for (String key : bucket.keys(PREFIX + "blobs/")) {
            String hex = key.substring(key.lastIndexOf('/') + 1);
            assertEquals("sha256:" + hex, Digest.sha256Of(Files.readAllBytes(s3.storedObject(name, key))).toString(),
                    key + " holds other bytes than its digest's");
        }
    }

    /** The bucket keys of an image's manifests, configs and layers. */
    private static Set<String> keys(BuiltImage image) {
        Set<String> keys = new TreeSet<>();
        keys.add(S3Bucket.blobKey(PREFIX, image.digest()));
        for (BuiltManifest manifest : image.manifests()) {
            keys.add(S3Bucket.blobKey(PREFIX, manifest.digest()));
        }
        image.blobs().forEach(blob -> keys.add(S3Bucket.blobKey(PREFIX, blob.digest())));
        return keys;
    }

    /** {@code docker.io/library/kept:1.0} for every tag the node's images list holds. */
    private static List<String> tagged(String server) throws Exception {
        List<String> tagged = new ArrayList<>();
        JsonNode listing = JSON.readTree(get(URI.create(server + "/admin/images")).body());
        for (JsonNode repository : listing.path("repositories")) {
            for (JsonNode tag : repository.path("tags")) {
                tagged.add(repository.path("name").asText() + ":" + tag.path("tag").asText());
            }
        }
        return tagged;
    }

    /** Pulls the image with skopeo; asks the upstream for exactly the blobs the bucket lacked. */
    private static void assertPullsFetchingOnlyWhatIsMissing(S3Bucket bucket, int port, String image,
                                                            BuiltImage expected) throws Exception {
        List<Digest> missing = expected.blobs().stream().map(Descriptor::digest)
                .filter(digest -> bucket.size(S3Bucket.blobKey(PREFIX, digest)).isEmpty()).toList();
        upstream.reset();
        assertPulls(port, image.substring("docker.io/".length()), expected);
        assertEquals(new TreeSet<>(missing.stream().map(Digest::toString).toList()),
                new TreeSet<>(upstream.blobGetDigests().stream().map(Digest::toString).toList()),
                image + ": the upstream was asked for what the bucket lacked");
        assertEquals(missing.size(), upstream.blobGetDigests().size(), image + ": once each");
    }

    /** Pulls {@code name:tag} through the node with skopeo: the manifest and every blob have their digests. */
    private static void assertPulls(int port, String image, BuiltImage expected) throws Exception {
        Path dir = work.resolve("pulled-" + System.nanoTime());
        skopeo.copyToDir("docker://127.0.0.1:" + port + "/" + image, dir, "--all");
        assertEquals(expected.digest(), Digest.sha256Of(Files.readAllBytes(dir.resolve("manifest.json"))), image);
        for (Descriptor blob : expected.blobs()) {
            assertEquals(blob.digest(), Digest.sha256Of(Files.readAllBytes(dir.resolve(blob.digest().hex()))), image);
        }
    }

    private static HttpResponse<byte[]> get(URI uri) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(uri).header("Accept", MediaTypes.ACCEPT_ALL_HEADER)
                .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofByteArray());
    }
}
