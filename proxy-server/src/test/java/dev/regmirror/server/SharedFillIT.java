package dev.regmirror.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.testing.RawBlobUpstream;
import dev.regmirror.core.testing.RegistryProcess;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One upstream download per blob, shared while it fills: every requester, early or late, streams
 * the same bytes, and a requester leaving does not stop the download for the others.
 */
class SharedFillIT {

    @TempDir
    Path work;

    private static byte[] random(int size, long seed) {
        byte[] bytes = new byte[size];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    /** Uploads a blob to a real registry through its API. */
    private static void upload(RegistryProcess registry, String repository, byte[] blob) throws Exception {
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        HttpResponse<Void> start = http.send(HttpRequest.newBuilder(registry.url().resolve("/v2/" + repository + "/blobs/uploads/"))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.discarding());
        URI location = registry.url().resolve(start.headers().firstValue("Location").orElseThrow());
        String separator = location.getQuery() == null ? "?" : "&";
        HttpResponse<Void> put = http.send(HttpRequest.newBuilder(URI.create(location + separator + "digest=" + Digest.sha256Of(blob)))
                .PUT(HttpRequest.BodyPublishers.ofByteArray(blob)).build(), HttpResponse.BodyHandlers.discarding());
        assertEquals(201, put.statusCode());
    }

    @Test
    void twentyConcurrentClientsOnOneColdBlobCauseOneUpstreamGetAndGetIdenticalBytes() throws Exception {
        byte[] blob = random(20 * 1024 * 1024, 41);
        Digest digest = Digest.sha256Of(blob);
        try (RegistryProcess upstream = RegistryProcess.start();
             MirrorFixture mirror = MirrorFixture.start(upstream.url(), work.resolve("cache"), Map.of())) {
            upload(upstream, "library/big", blob);
            upstream.reset();
            List<CompletableFuture<HttpResponse<byte[]>>> pulls = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                pulls.add(mirror.http().sendAsync(mirror.request("/v2/big/blobs/" + digest).build(),
                        HttpResponse.BodyHandlers.ofByteArray()));
            }
            for (CompletableFuture<HttpResponse<byte[]>> pull : pulls) {
                HttpResponse<byte[]> response = pull.get(60, TimeUnit.SECONDS);
                assertEquals(200, response.statusCode());
                assertEquals(digest, Digest.sha256Of(response.body()));
            }
            assertEquals(1, upstream.blobGets().size(), "one upstream GET for 20 clients: " + upstream.requests());
        }
    }

    @Test
    void aLateJoinerStreamsTheWholeBodyFromTheGrowingFile() throws Exception {
        byte[] blob = random(2_000_000, 42);
        Digest digest = Digest.sha256Of(blob);
        try (RawBlobUpstream pausing = RawBlobUpstream.pausing(blob, 1_000_000);
             MirrorFixture mirror = MirrorFixture.start(pausing.uri(), work.resolve("cache"),
                     Map.of("regmirror.upstream-defaults.read-timeout", "30s"))) {
            HttpResponse<InputStream> early = mirror.http().send(mirror.request("/v2/x/blobs/" + digest).build(),
                    HttpResponse.BodyHandlers.ofInputStream());
            try (InputStream earlyBody = early.body()) {
                readWithin(earlyBody, 500_000);
                CompletableFuture<HttpResponse<byte[]>> late = mirror.http().sendAsync(
                        mirror.request("/v2/x/blobs/" + digest).build(), HttpResponse.BodyHandlers.ofByteArray());
                pausing.release();
                assertArrayEquals(blob, late.get(30, TimeUnit.SECONDS).body(), "the late joiner got every byte");
                byte[] rest = earlyBody.readAllBytes();
                assertEquals(blob.length - 500_000, rest.length);
            }
            assertEquals(1, pausing.requests());
        }
    }

    @Test
    void theFirstClientLeavingDoesNotStopTheDownloadForTheOthersOrTheCache() throws Exception {
        byte[] blob = random(2_000_000, 43);
        Digest digest = Digest.sha256Of(blob);
        try (RawBlobUpstream pausing = RawBlobUpstream.pausing(blob, 1_000_000);
             MirrorFixture mirror = MirrorFixture.start(pausing.uri(), work.resolve("cache"),
                     Map.of("regmirror.upstream-defaults.read-timeout", "30s"))) {
            HttpResponse<InputStream> leaving = mirror.http().send(mirror.request("/v2/x/blobs/" + digest).build(),
                    HttpResponse.BodyHandlers.ofInputStream());
            CompletableFuture<HttpResponse<byte[]>> staying = mirror.http().sendAsync(
                    mirror.request("/v2/x/blobs/" + digest).build(), HttpResponse.BodyHandlers.ofByteArray());
            readWithin(leaving.body(), 100_000);
            leaving.body().close();
            pausing.release();
            assertArrayEquals(blob, staying.get(30, TimeUnit.SECONDS).body());
            HttpResponse<byte[]> after = mirror.get("/v2/x/blobs/" + digest);
            assertArrayEquals(blob, after.body());
            assertEquals(1, pausing.requests(), "the download finished and the next pull was a hit");
        }
    }

    @Test
    void aFillNobodyReadsAnyMoreStillCompletesSoTheNextPullIsAHit() throws Exception {
        byte[] blob = random(2_000_000, 44);
        Digest digest = Digest.sha256Of(blob);
        try (RawBlobUpstream pausing = RawBlobUpstream.pausing(blob, 1_000_000);
             MirrorFixture mirror = MirrorFixture.start(pausing.uri(), work.resolve("cache"),
                     Map.of("regmirror.upstream-defaults.read-timeout", "30s"))) {
            HttpResponse<InputStream> only = mirror.http().send(mirror.request("/v2/x/blobs/" + digest).build(),
                    HttpResponse.BodyHandlers.ofInputStream());
            readWithin(only.body(), 100_000);
            only.body().close();
            pausing.release();
            // Had the download been cancelled when its only reader left, this would fetch again.
            assertArrayEquals(blob, mirror.get("/v2/x/blobs/" + digest).body());
            assertEquals(1, pausing.requests());
        }
    }

    private static void readWithin(InputStream body, int bytes) throws Exception {
        byte[] read = CompletableFuture.supplyAsync(() -> {
            try {
                return body.readNBytes(bytes);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }).get(10, TimeUnit.SECONDS);
        assertEquals(bytes, read.length);
    }
}
