package dev.regmirror.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.testing.Closing;
import dev.regmirror.core.testing.RawBlobUpstream;
import dev.regmirror.core.testing.S3Bucket;
import dev.regmirror.core.testing.S3ProxyProcess;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The built jar on an S3 bucket (S3Proxy) killed with SIGKILL in the middle of a blob's multipart
 * upload: the bucket holds no object under the digest, only the unfinished upload, which the next
 * start aborts; the next pull fetches the blob again and stores it whole. A blob whose bytes do not
 * match its digest never completes an upload either.
 */
class S3CrashCliIT {

    private static final String PREFIX = S3Nodes.PREFIX;
    private static final int SIZE = 24_000_000;
    /** What the upstream sends before it stalls: two full 5 MiB parts and some. */
    private static final int SENT_BEFORE_THE_KILL = 12_000_000;

    @TempDir
    static Path work;

    private static S3ProxyProcess s3;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2)).build();

    @BeforeAll
    static void start() {
        s3 = S3ProxyProcess.start();
    }

    @AfterAll
    static void stop() throws Exception {
        Closing.all(s3);
    }

    @Test
    void killedMidUploadTheBucketHoldsNoObjectAndTheNextStartAbortsTheUpload() throws Exception {
        byte[] blob = random(SIZE, 61);
        Digest digest = Digest.sha256Of(blob);
        String key = S3Bucket.blobKey(PREFIX, digest);
        s3.createBucket("crash");
        try (S3Bucket bucket = new S3Bucket(s3, "crash");
             RawBlobUpstream upstream = RawBlobUpstream.pausing(blob, SENT_BEFORE_THE_KILL)) {
            int port = RegmirrorProcess.freePort();
            Path config = config("crash", port, upstream.uri());
            RegmirrorProcess mirror = serve(config, port);
            CompletableFuture<HttpResponse<byte[]>> client = http.sendAsync(request(port, digest),
                    HttpResponse.BodyHandlers.ofByteArray());
            awaitUpload(bucket, key, mirror);
            mirror.kill();

            assertTrue(bucket.size(key).isEmpty(), "no object under the digest after the kill");
            assertEquals(List.of(key), bucket.uploadsInProgress(), "the killed node's upload is left unfinished");
            Throwable cut = client.handle((response, failure) -> failure).get(30, TimeUnit.SECONDS);
            assertTrue(cut != null, "the client's download ended in an error, not a complete 200");

            upstream.release();
            try (RegmirrorProcess restarted = serve(config, port)) {
                assertEquals(List.of(), bucket.uploadsInProgress(), "the start aborted it");
                assertTrue(restarted.output().contains("aborted 1 unfinished upload"), restarted.output());
                restarted.output().lines().filter(line -> line.contains("S3BlobStore") || line.contains("UploadRecords"))
                        .forEach(line -> System.out.println("S3CrashCliIT, the restart: " + line));

                HttpResponse<byte[]> again = http.send(request(port, digest), HttpResponse.BodyHandlers.ofByteArray());
                assertEquals(200, again.statusCode());
                assertEquals(digest, Digest.sha256Of(again.body()));
                restarted.awaitFillsCommitted();
                assertEquals(SIZE, bucket.size(key).orElse(-1), "stored whole under its digest");
                assertEquals(List.of(), bucket.uploadsInProgress());
                assertEquals(2, upstream.requests(), "fetched again after the kill, once");
            }
        }
    }

    @Test
    void aBlobNotMatchingItsDigestNeverCompletesAnUpload() throws Exception {
        byte[] wrong = random(SENT_BEFORE_THE_KILL, 62);
        Digest expected = Digest.sha256Of(random(SENT_BEFORE_THE_KILL, 63));
        s3.createBucket("mismatch");
        try (S3Bucket bucket = new S3Bucket(s3, "mismatch");
             RawBlobUpstream upstream = RawBlobUpstream.pausing(wrong, wrong.length)) {
            upstream.release();
            int port = RegmirrorProcess.freePort();
            try (RegmirrorProcess mirror = serve(config("mismatch", port, upstream.uri()), port)) {
                HttpResponse<byte[]> response;
                try {
                    response = http.send(request(port, expected), HttpResponse.BodyHandlers.ofByteArray());
                    assertNotEquals(expected, Digest.sha256Of(response.body()));
                    assertTrue(response.statusCode() != 200 || response.body().length < wrong.length,
                            "never a complete 200 of the wrong bytes: " + response.statusCode());
                } catch (java.io.IOException cut) {
                    // the connection cut once the digest did not match: what a client should see
                }
                mirror.awaitFillsCommitted();
                assertEquals(1, upstream.requests());
                assertTrue(bucket.size(S3Bucket.blobKey(PREFIX, expected)).isEmpty(), "no object under the digest");
                assertEquals(List.of(), bucket.keys(PREFIX + "blobs/"));
                // The fill ends at the mismatch; the abort follows the parts still in flight.
                assertEquals(List.of(), awaitNoUploads(bucket), "the upload of its parts was aborted");
            }
        }
    }

    private static byte[] random(int size, long seed) {
        byte[] bytes = new byte[size];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    private static HttpRequest request(int port, Digest digest) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v2/library/big/blobs/" + digest))
                .timeout(Duration.ofSeconds(60)).build();
    }

    /** Waits until the bucket lists the multipart upload of the key: the kill then lands mid-upload. */
    private static void awaitUpload(S3Bucket bucket, String key, RegmirrorProcess mirror) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!bucket.uploadsInProgress().contains(key)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no upload of " + key + " began within 30 s:\n" + mirror.output());
            }
            Thread.sleep(50);
        }
    }

    /** The uploads in progress once none is left, or after 15 s. */
    private static List<String> awaitNoUploads(S3Bucket bucket) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        List<String> uploads = bucket.uploadsInProgress();
        while (!uploads.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(100);
            uploads = bucket.uploadsInProgress();
        }
        return uploads;
    }

    private static Path config(String bucket, int port, URI upstream) throws Exception {
        return S3Nodes.config(work, s3.endpoint(), bucket, port, RegmirrorProcess.freePort(), upstream);
    }

    private static RegmirrorProcess serve(Path config, int port) throws Exception {
        return RegmirrorProcess.serveAfterKill(work, config, port);
    }
}
