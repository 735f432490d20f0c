package dev.regmirror.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.testing.BuiltImage;
import dev.regmirror.core.testing.Closing;
import dev.regmirror.core.testing.LoggedRequest;
import dev.regmirror.core.testing.RegistryProcess;
import dev.regmirror.core.testing.S3ProxyProcess;
import dev.regmirror.core.testing.Skopeo;
import dev.regmirror.core.testing.TestImages;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The requests a blob costs at the bucket, counted by a real S3 server (S3Proxy logging every
 * request it is sent), with a real registry upstream: a miss asks the bucket once whether it holds
 * the blob (the fill's second look is answered by this node's own knowledge), a HEAD followed by
 * the GET of an uncached blob asks once for both, and a hit never asks.
 */
class S3MissRequestsIT {

    private static final String BUCKET = "misses";

    @TempDir
    static Path work;

    private static RegistryProcess upstream;
    private static S3ProxyProcess s3;
    /** library/app:1.0, three layers of about 300 KB. */
    private static BuiltImage app;

    @BeforeAll
    static void start() throws Exception {
        upstream = RegistryProcess.start();
        s3 = S3ProxyProcess.startLoggingRequests();
        s3.createBucket(BUCKET);
        app = TestImages.singleArch(work.resolve("app"), "1.0", 3, 300_000, 64);
        try (Skopeo skopeo = new Skopeo()) {
            skopeo.copy(app.source(), "docker://" + upstream.hostPort() + "/library/app:1.0");
        }
    }

    @AfterAll
    static void stop() throws Exception {
        Closing.all(s3, upstream);
    }

    private static Map<String, Object> onS3() {
        return s3.storageSettings(BUCKET, "mirror/");
    }

    /** The requests sent to the bucket for this blob's object, e.g. {@code ["HEAD", "POST", "PUT", "POST"]}. */
    private static List<String> requestsFor(Digest digest) {
        String path = "/" + BUCKET + "/mirror/blobs/sha256/" + digest.hex().substring(0, 2) + "/" + digest.hex();
        return s3.requests().stream().filter(request -> request.endsWith(" " + path))
                .map(request -> request.substring(0, request.indexOf(' '))).toList();
    }

    private static long count(List<String> requests, String method) {
        return requests.stream().filter(method::equals).count();
    }

    @Test
    void aMissAsksTheBucketOnceAndAHitNever() throws Exception {
        try (MirrorFixture mirror = MirrorFixture.start(upstream.url(), work.resolve("node"), onS3())) {
            Digest missed = app.manifest().layers().get(0).digest();
            upstream.reset();
            HttpResponse<byte[]> miss = mirror.get("/v2/library/app/blobs/" + missed);
            assertEquals(200, miss.statusCode());
            assertEquals(missed, Digest.sha256Of(miss.body()));
            mirror.awaitFillsCommitted();
            List<String> afterMiss = requestsFor(missed);
            assertEquals(1, count(afterMiss, "HEAD"), "one look-up in the bucket for the miss: " + afterMiss);
            assertEquals(1, upstream.blobGets().size(), upstream.blobGets().toString());

            HttpResponse<byte[]> hit = mirror.get("/v2/library/app/blobs/" + missed);
            assertEquals(missed, Digest.sha256Of(hit.body()));
            List<String> afterHit = requestsFor(missed);
            assertEquals(1, count(afterHit, "HEAD"), "no look-up for the hit: " + afterHit);
            assertEquals(count(afterMiss, "GET") + 1, count(afterHit, "GET"), "one GET for the hit: " + afterHit);

            // What docker does: HEAD the blob, then GET it.
            Digest headed = app.manifest().layers().get(1).digest();
            assertEquals(200, mirror.head("/v2/library/app/blobs/" + headed).statusCode());
            HttpResponse<byte[]> got = mirror.get("/v2/library/app/blobs/" + headed);
            assertEquals(headed, Digest.sha256Of(got.body()));
            mirror.awaitFillsCommitted();
            List<String> afterHeadAndGet = requestsFor(headed);
            assertEquals(1, count(afterHeadAndGet, "HEAD"), "one look-up for the HEAD and the GET: " + afterHeadAndGet);
            assertEquals(List.of("/v2/library/app/blobs/" + missed, "/v2/library/app/blobs/" + headed),
                    upstream.blobGets().stream().map(LoggedRequest::path).toList());
        }
    }

    /**
     * The change log is listed at the interval the node is given: over 6 idle seconds, a node
     * with the default 1 s lists the bucket about 6 times, one with {@code changes-interval = 3s}
     * about twice (nothing else lists an idle bucket).
     */
    @Test
    void anIdleNodeListsTheChangeLogAtItsInterval() throws Exception {
        long everySecond = listingsWhileIdle(onS3(), work.resolve("every-second"));
        Map<String, Object> slower = onS3();
        slower.put("regmirror.storage.s3.changes-interval", "3s");
        long everyThreeSeconds = listingsWhileIdle(slower, work.resolve("every-three-seconds"));
        assertTrue(everySecond >= 3 && everySecond <= 8, everySecond + " listings in 6 s at 1s");
        assertTrue(everyThreeSeconds < everySecond, everyThreeSeconds + " at 3s, " + everySecond + " at 1s");
        assertTrue(everyThreeSeconds >= 1 && everyThreeSeconds <= 3, everyThreeSeconds + " listings in 6 s at 3s");
    }

    private static long listingsWhileIdle(Map<String, Object> settings, Path directory) throws Exception {
        try (MirrorFixture mirror = MirrorFixture.start(upstream.url(), directory, settings)) {
            Thread.sleep(1_000); // past the start's own listings
            long before = count(s3.requests(), "GET /" + BUCKET);
            Thread.sleep(6_000);
            return count(s3.requests(), "GET /" + BUCKET) - before;
        }
    }
}
