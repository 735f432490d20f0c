package dev.regmirror.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.regmirror.core.manifest.Descriptor;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.storage.CacheLayout;
import dev.regmirror.core.testing.BuiltImage;
import dev.regmirror.core.testing.Closing;
import dev.regmirror.core.testing.LoggedRequest;
import dev.regmirror.core.testing.RegistryProcess;
import dev.regmirror.core.testing.Skopeo;
import dev.regmirror.core.testing.TestCredentials;
import dev.regmirror.core.testing.TestImages;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The blob push API on a hosted repository, spoken raw as a client speaks it (java.net.http, Basic
 * credentials of an account with push rights): monolithic, POST then PUT, chunks in order and out
 * of order, status and resume, cancel, a wrong digest, an upload left to expire, a mount of a blob
 * pulled through from the real upstream, and a 64 MiB blob streamed with the server's memory flat;
 * what was pushed is read back byte for byte, with ranges.
 */
class HostedUploadIT {

    private static final String ALICE = "Basic " + Base64.getEncoder()
            .encodeToString("alice:alice-pw".getBytes(StandardCharsets.UTF_8));
    private static final int MIB = 1 << 20;

    @TempDir
    static Path work;

    private static RegistryProcess upstream;
    private static MirrorFixture mirror;
    private static BuiltImage base;

    @BeforeAll
    static void start() throws Exception {
        upstream = RegistryProcess.start();
        base = TestImages.singleArch(work.resolve("base"), "1.0", 2, 200_000, 601);
        try (Skopeo skopeo = new Skopeo()) {
            skopeo.copy(base.source(), "docker://" + upstream.hostPort() + "/library/base:1.0");
        }
        Path htpasswd = Files.writeString(work.resolve("htpasswd"),
                TestCredentials.htpasswdLine("alice", "alice-pw") + "\n");
        Map<String, Object> settings = new HashMap<>();
        settings.put("regmirror.auth.htpasswd", htpasswd.toString());
        settings.put("regmirror.hosted.namespaces", List.of("lan"));
        settings.put("regmirror.hosted.upload-timeout", "5s");
        settings.put("regmirror.auth.rules", List.of(
                Map.of("images", List.of("local/lan/**"), "actions", List.of("push"), "allow", List.of("alice")),
                Map.of("images", List.of("**"), "allow", List.of("anonymous"))));
        mirror = MirrorFixture.start(upstream.url(), work.resolve("cache"), settings);
    }

    @AfterAll
    static void stop() throws Exception {
        Closing.all(mirror, upstream);
    }

    @Test
    void aMonolithicPostStoresTheBlobAndItIsServedBackWithRanges() throws Exception {
        byte[] blob = bytes(100_000, 1);
        Digest digest = Digest.sha256Of(blob);
        long uploaded = metric("regmirror_hosted_upload_bytes_total");

        HttpResponse<String> created = send(push("/v2/lan/mono/blobs/uploads/?digest=" + digest)
                .expectContinue(true).POST(HttpRequest.BodyPublishers.ofByteArray(blob)));

        assertEquals(201, created.statusCode(), created.body());
        assertEquals("/v2/lan/mono/blobs/" + digest, header(created, "Location"));
        assertEquals(digest.toString(), header(created, "Docker-Content-Digest"));
        assertEquals(uploaded + blob.length, metric("regmirror_hosted_upload_bytes_total"));
        assertServed("lan/mono", digest, blob);
        assertEquals(404, mirror.get("/v2/lan/other/blobs/" + digest).statusCode(), "linked in lan/mono only");
    }

    @Test
    void postThenPutWithTheWholeBody() throws Exception {
        byte[] blob = bytes(50_000, 2);
        Digest digest = Digest.sha256Of(blob);
        HttpResponse<String> started = send(push("/v2/lan/two/blobs/uploads/").POST(HttpRequest.BodyPublishers.noBody()));
        assertEquals(202, started.statusCode(), started.body());
        assertEquals("0-0", header(started, "Range"));
        String location = header(started, "Location");
        assertTrue(location.startsWith("/v2/lan/two/blobs/uploads/"), location);
        assertEquals(location.substring(location.lastIndexOf('/') + 1), header(started, "Docker-Upload-UUID"));
        assertEquals("0", header(started, "Content-Length"));

        HttpResponse<String> created = send(push(location + "?digest=" + digest)
                .PUT(HttpRequest.BodyPublishers.ofByteArray(blob)));

        assertEquals(201, created.statusCode(), created.body());
        assertServed("lan/two", digest, blob);
    }

    @Test
    void chunksInOrderThenAnOutOfOrderOneIsRefusedWithTheRangeThenStatusAndResume() throws Exception {
        byte[] blob = bytes(90_000, 3);
        Digest digest = Digest.sha256Of(blob);
        String location = header(send(push("/v2/lan/chunks/blobs/uploads/").POST(HttpRequest.BodyPublishers.noBody())),
                "Location");

        location = patch(location, blob, 0, 30_000);
        HttpResponse<String> gap = send(push(location).header("Content-Range", "40000-49999")
                .method("PATCH", HttpRequest.BodyPublishers.ofByteArray(blob, 40_000, 10_000)));
        assertEquals(416, gap.statusCode(), gap.body());
        assertEquals("0-29999", header(gap, "Range"));
        assertNotNull(header(gap, "Location"));
        HttpResponse<String> overlap = send(push(location).header("Content-Range", "20000-39999")
                .method("PATCH", HttpRequest.BodyPublishers.ofByteArray(blob, 20_000, 20_000)));
        assertEquals(416, overlap.statusCode(), overlap.body());

        HttpResponse<String> status = send(push(location).GET());
        assertEquals(204, status.statusCode(), status.body());
        assertEquals("0-29999", header(status, "Range"));
        assertEquals(location, header(status, "Location"));
        assertNotNull(header(status, "Docker-Upload-UUID"));

        location = patch(location, blob, 30_000, 60_000);
        location = patch(location, blob, 60_000, 90_000);
        HttpResponse<String> created = send(push(location + "?digest=" + digest)
                .PUT(HttpRequest.BodyPublishers.noBody()));
        assertEquals(201, created.statusCode(), created.body());
        assertServed("lan/chunks", digest, blob);
    }

    /**
     * A Content-Range that lies, about the body's length (declared or sent) or in its form, is 400
     * BLOB_UPLOAD_INVALID; the upload keeps what it had, and goes on from there to the right digest.
     */
    @Test
    void aContentRangeThatLiesIsBlobUploadInvalidAndTheUploadKeepsWhatItHad() throws Exception {
        byte[] blob = bytes(30_000, 10);
        Digest digest = Digest.sha256Of(blob);
        String location = header(send(push("/v2/lan/lies/blobs/uploads/").POST(HttpRequest.BodyPublishers.noBody())),
                "Location");
        location = patch(location, blob, 0, 10_000);

        HttpResponse<String> declared = send(push(location).header("Content-Range", "10000-29999")
                .method("PATCH", HttpRequest.BodyPublishers.ofByteArray(blob, 10_000, 5_000)));
        assertEquals(400, declared.statusCode(), declared.body());
        assertTrue(declared.body().contains("BLOB_UPLOAD_INVALID"), declared.body());
        // No Content-Length (chunked): the lie shows only when the body ends short of the range.
        HttpResponse<String> sent = send(push(location).header("Content-Range", "10000-29999")
                .method("PATCH", HttpRequest.BodyPublishers.ofInputStream(
                        () -> new java.io.ByteArrayInputStream(blob, 10_000, 5_000))));
        assertEquals(400, sent.statusCode(), sent.body());
        assertTrue(sent.body().contains("BLOB_UPLOAD_INVALID"), sent.body());
        HttpResponse<String> malformed = send(push(location).header("Content-Range", "bytes 10000-19999/*")
                .method("PATCH", HttpRequest.BodyPublishers.ofByteArray(blob, 10_000, 10_000)));
        assertEquals(400, malformed.statusCode(), malformed.body());
        assertTrue(malformed.body().contains("BLOB_UPLOAD_INVALID"), malformed.body());

        HttpResponse<String> status = send(push(location).GET());
        assertEquals(204, status.statusCode(), status.body());
        assertEquals("0-9999", header(status, "Range"), "nothing of the refused chunks was kept");
        location = patch(header(status, "Location"), blob, 10_000, 30_000);
        HttpResponse<String> created = send(push(location + "?digest=" + digest).PUT(HttpRequest.BodyPublishers.noBody()));
        assertEquals(201, created.statusCode(), created.body());
        assertServed("lan/lies", digest, blob);
    }

    @Test
    void aCancelledUploadIsUnknownAfter() throws Exception {
        String location = header(send(push("/v2/lan/cancel/blobs/uploads/").POST(HttpRequest.BodyPublishers.noBody())),
                "Location");
        patch(location, bytes(1000, 4), 0, 1000);

        assertEquals(204, send(push(location).DELETE()).statusCode());

        HttpResponse<String> after = send(push(location).GET());
        assertEquals(404, after.statusCode());
        assertTrue(after.body().contains("BLOB_UPLOAD_UNKNOWN"), after.body());
        assertEquals(404, send(push(location).method("PATCH", HttpRequest.BodyPublishers.ofString("x"))).statusCode());
    }

    @Test
    void aWrongDigestIsDigestInvalidAndNothingIsServed() throws Exception {
        byte[] blob = bytes(20_000, 5);
        Digest claimed = Digest.sha256Of("something else".getBytes(StandardCharsets.UTF_8));
        String location = header(send(push("/v2/lan/wrong/blobs/uploads/").POST(HttpRequest.BodyPublishers.noBody())),
                "Location");

        HttpResponse<String> refused = send(push(location + "?digest=" + claimed)
                .PUT(HttpRequest.BodyPublishers.ofByteArray(blob)));

        assertEquals(400, refused.statusCode());
        assertTrue(refused.body().contains("DIGEST_INVALID"), refused.body());
        HttpResponse<byte[]> claimedBlob = mirror.get("/v2/lan/wrong/blobs/" + claimed);
        assertEquals(404, claimedBlob.statusCode());
        assertTrue(new String(claimedBlob.body(), StandardCharsets.UTF_8).contains("BLOB_UNKNOWN"));
        assertEquals(404, mirror.get("/v2/lan/wrong/blobs/" + Digest.sha256Of(blob)).statusCode());
        assertEquals(404, send(push(location).GET()).statusCode(), "the upload is over");
    }

    @Test
    void anIdleUploadExpires() throws Exception {
        long expired = metric("regmirror_hosted_uploads_expired_total");
        String location = header(send(push("/v2/lan/idle/blobs/uploads/").POST(HttpRequest.BodyPublishers.noBody())),
                "Location");
        patch(location, bytes(1000, 6), 0, 1000);

        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (metric("regmirror_hosted_uploads_expired_total") == expired && System.nanoTime() < deadline) {
            Thread.sleep(200);
        }

        HttpResponse<String> gone = send(push(location).GET());
        assertEquals(404, gone.statusCode());
        assertTrue(gone.body().contains("BLOB_UPLOAD_UNKNOWN"), gone.body());
        try (Stream<Path> uploads = Files.list(new CacheLayout(work.resolve("cache")).hostedUploads())) {
            String id = location.substring(location.lastIndexOf('/') + 1);
            assertFalse(uploads.anyMatch(path -> path.getFileName().toString().equals(id)), "its bytes were removed");
        }
    }

    @Test
    void aBlobPulledThroughTheCacheIsMountedNotUploadedAndStaysOneFile() throws Exception {
        Descriptor layer = base.layers().get(0);
        HttpResponse<byte[]> pulled = mirror.get("/v2/library/base/blobs/" + layer.digest());
        assertEquals(200, pulled.statusCode());
        upstream.reset();
        long uploaded = metric("regmirror_hosted_upload_bytes_total");
        long mounts = metric("regmirror_hosted_mounts_total");

        HttpResponse<String> mounted = send(push("/v2/lan/seeded/blobs/uploads/?mount=" + layer.digest()
                + "&from=library/base").POST(HttpRequest.BodyPublishers.noBody()));

        assertEquals(201, mounted.statusCode(), mounted.body());
        assertEquals("/v2/lan/seeded/blobs/" + layer.digest(), header(mounted, "Location"));
        assertEquals(layer.digest().toString(), header(mounted, "Docker-Content-Digest"));
        assertEquals(uploaded, metric("regmirror_hosted_upload_bytes_total"));
        assertEquals(mounts + 1, metric("regmirror_hosted_mounts_total"));
        assertServed("lan/seeded", layer.digest(), pulled.body());
        try (Stream<Path> files = Files.walk(work.resolve("cache"))) {
            List<Path> named = files.filter(Files::isRegularFile)
                    .filter(path -> path.getFileName().toString().equals(layer.digest().hex())).toList();
            List<Path> copies = new ArrayList<>();
            for (Path path : named) {
                if (Files.size(path) > 0) {
                    copies.add(path); // the hosted repository's link is an empty file
                }
            }
            assertEquals(List.of(new CacheLayout(work.resolve("cache")).blob(layer.digest())), copies,
                    "one file for the digest, where the cache keeps it");
        }
        assertEquals(List.of(), upstream.requests().stream().map(LoggedRequest::path)
                .filter(path -> path.contains("/lan/")).toList(), "hosted names never reach the upstream");

        // A mount from a repository that does not hold the blob falls back to an upload.
        Digest absent = Digest.sha256Of("not anywhere".getBytes(StandardCharsets.UTF_8));
        HttpResponse<String> fallback = send(push("/v2/lan/seeded/blobs/uploads/?mount=" + absent
                + "&from=lan/nothing").POST(HttpRequest.BodyPublishers.noBody()));
        assertEquals(202, fallback.statusCode(), fallback.body());
        assertNotNull(header(fallback, "Docker-Upload-UUID"));
    }

    @Test
    void aMountNamingNoRepositoryFindsTheBlobInAHostedRepositoryThePusherMayRead() throws Exception {
        byte[] blob = bytes(30_000, 9);
        Digest digest = Digest.sha256Of(blob);
        assertEquals(201, send(push("/v2/lan/origin/blobs/uploads/?digest=" + digest)
                .POST(HttpRequest.BodyPublishers.ofByteArray(blob))).statusCode());
        long uploaded = metric("regmirror_hosted_upload_bytes_total");

        HttpResponse<String> mounted = send(push("/v2/lan/elsewhere/blobs/uploads/?mount=" + digest)
                .POST(HttpRequest.BodyPublishers.noBody()));

        assertEquals(201, mounted.statusCode(), mounted.body());
        assertEquals("/v2/lan/elsewhere/blobs/" + digest, header(mounted, "Location"));
        assertEquals(uploaded, metric("regmirror_hosted_upload_bytes_total"), "mounted, not uploaded");
        assertServed("lan/elsewhere", digest, blob);
    }

    @Test
    void a64MiBBlobStreamsInChunksWithTheServersMemoryFlat() throws Exception {
        long size = 64L * MIB;
        Digest digest = digestOf(size);
        String location = header(send(push("/v2/lan/big/blobs/uploads/").POST(HttpRequest.BodyPublishers.noBody())),
                "Location");
        System.gc();
        long heapBefore = heapUsed();
        long directBefore = nettyDirect();
        AtomicLong heapDuring = new AtomicLong();
        AtomicLong directDuring = new AtomicLong();

        long[] bounds = {0, 24L * MIB, 48L * MIB, size};
        for (int i = 0; i < 2; i++) {
            long first = bounds[i];
            long last = bounds[i + 1] - 1;
            // Measured inside the first chunk, 22 MiB in: what the server keeps of it is live then.
            Runnable measure = i == 0 ? () -> {
                System.gc();
                heapDuring.set(heapUsed());
                directDuring.set(nettyDirect());
            } : () -> { };
            HttpResponse<String> accepted = send(push(location).header("Content-Range", first + "-" + last)
                    .method("PATCH", HttpRequest.BodyPublishers.ofInputStream(
                            () -> new Generated(first, last + 1, 22L * MIB, measure))));
            assertEquals(202, accepted.statusCode(), accepted.body());
            assertEquals("0-" + last, header(accepted, "Range"));
            location = header(accepted, "Location");
        }
        long from = bounds[2];
        HttpResponse<String> created = send(push(location + "?digest=" + digest).header("Content-Range",
                from + "-" + (size - 1)).PUT(HttpRequest.BodyPublishers.ofInputStream(
                () -> new Generated(from, size, -1, () -> { }))));
        assertEquals(201, created.statusCode(), created.body());

        assertTrue(heapDuring.get() > 0, "measured while the first chunk streamed");
        System.err.printf("HostedUploadIT: heap %d -> %d, Netty direct %d -> %d while 22 MiB of a chunk were sent%n",
                heapBefore, heapDuring.get(), directBefore, directDuring.get());
        assertTrue(heapDuring.get() - heapBefore < 16L * MIB, "heap grew by " + (heapDuring.get() - heapBefore));
        assertTrue(directDuring.get() - directBefore < 16L * MIB,
                "Netty's direct memory grew by " + (directDuring.get() - directBefore));
        HttpResponse<InputStream> back = mirror.http().send(mirror.request("/v2/lan/big/blobs/" + digest).GET().build(),
                HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, back.statusCode());
        assertEquals(String.valueOf(size), back.headers().firstValue("Content-Length").orElse(""));
        MessageDigest hasher = MessageDigest.getInstance("SHA-256");
        try (InputStream in = back.body()) {
            byte[] buffer = new byte[1 << 16];
            for (int n; (n = in.read(buffer)) > 0; ) {
                hasher.update(buffer, 0, n);
            }
        }
        assertEquals(digest.hex(), HexFormat.of().formatHex(hasher.digest()));
        HttpResponse<byte[]> middle = mirror.get("/v2/lan/big/blobs/" + digest, "Range", "bytes=33554432-33554531");
        assertEquals(206, middle.statusCode());
        assertArrayEquals(new Generated(32L * MIB, 32L * MIB + 100, -1, () -> { }).readAllBytes(), middle.body());
    }

    /** PATCHes {@code [from, to)} of the blob with its Content-Range; the next Location. */
    private static String patch(String location, byte[] blob, int from, int to) throws Exception {
        HttpResponse<String> accepted = send(push(location).header("Content-Range", from + "-" + (to - 1))
                .method("PATCH", HttpRequest.BodyPublishers.ofByteArray(blob, from, to - from)));
        assertEquals(202, accepted.statusCode(), accepted.body());
        assertEquals("0-" + (to - 1), header(accepted, "Range"));
        return header(accepted, "Location");
    }

    /** GET and HEAD give the blob back whole, and a Range gives its part. */
    private static void assertServed(String repository, Digest digest, byte[] blob) throws Exception {
        HttpResponse<byte[]> got = mirror.get("/v2/" + repository + "/blobs/" + digest);
        assertEquals(200, got.statusCode());
        assertArrayEquals(blob, got.body());
        assertEquals(digest.toString(), got.headers().firstValue("Docker-Content-Digest").orElse(""));
        HttpResponse<Void> head = mirror.head("/v2/" + repository + "/blobs/" + digest);
        assertEquals(200, head.statusCode());
        assertEquals(String.valueOf(blob.length), head.headers().firstValue("Content-Length").orElse(""));
        HttpResponse<byte[]> part = mirror.get("/v2/" + repository + "/blobs/" + digest, "Range", "bytes=10-19");
        assertEquals(206, part.statusCode());
        assertArrayEquals(java.util.Arrays.copyOfRange(blob, 10, 20), part.body());
    }

    private static HttpRequest.Builder push(String path) {
        return mirror.request(path).header("Authorization", ALICE);
    }

    private static HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
        return mirror.http().send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String header(HttpResponse<?> response, String name) {
        return response.headers().firstValue(name).orElse(null);
    }

    private static byte[] bytes(int size, long seed) {
        byte[] bytes = new byte[size];
        new SplittableRandom(seed).nextBytes(bytes);
        return bytes;
    }

    private static Digest digestOf(long size) throws Exception {
        MessageDigest hasher = MessageDigest.getInstance("SHA-256");
        try (InputStream in = new Generated(0, size, -1, () -> { })) {
            byte[] buffer = new byte[1 << 16];
            for (int n; (n = in.read(buffer)) > 0; ) {
                hasher.update(buffer, 0, n);
            }
        }
        return new Digest("sha256", HexFormat.of().formatHex(hasher.digest()));
    }

    private static long heapUsed() {
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    private static long nettyDirect() {
        return ByteBufAllocator.DEFAULT instanceof ByteBufAllocatorMetricProvider provider
                ? provider.metric().usedDirectMemory() : 0;
    }

    /** A counter of the registry listener's {@code /metrics}, 0 when not yet counted. */
    private static long metric(String name) throws Exception {
        HttpResponse<byte[]> metrics = mirror.get("/metrics");
        assertEquals(200, metrics.statusCode());
        Matcher line = Pattern.compile("(?m)^" + name + "(\\{[^}]*\\})? ([0-9.eE+-]+)$")
                .matcher(new String(metrics.body(), StandardCharsets.UTF_8));
        long total = 0;
        while (line.find()) {
            total += (long) Double.parseDouble(line.group(2));
        }
        return total;
    }

    /**
     * Bytes {@code [from, to)} of a large blob made up as it is read: byte {@code i} is a function of
     * {@code i}, so no copy of the blob is ever held; {@code at} (relative to {@code from}) runs
     * {@code measure} once on the way.
     */
    private static final class Generated extends InputStream {

        private final long to;
        private final long at;
        private final Runnable measure;
        private final long start;
        private long position;
        private boolean measured;

        Generated(long from, long to, long at, Runnable measure) {
            this.position = from;
            this.start = from;
            this.to = to;
            this.at = at;
            this.measure = measure;
        }

        static byte byteAt(long i) {
            long x = i * 0x9E3779B97F4A7C15L;
            return (byte) (x >>> 56 ^ i);
        }

        @Override
        public int read() {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] buffer, int offset, int length) {
            if (position >= to) {
                return -1;
            }
            if (!measured && at >= 0 && position - start >= at) {
                measured = true;
                measure.run();
            }
            int n = (int) Math.min(length, to - position);
            for (int i = 0; i < n; i++) {
                buffer[offset + i] = byteAt(position + i);
            }
            position += n;
            return n;
        }
    }
}
