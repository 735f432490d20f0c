package dev.regmirror.server;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.tomakehurst.wiremock.WireMockServer;
import dev.regmirror.core.reference.Digest;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** cache.max-size evicts the least recently used content, but never a blob a client is still reading. */
class EvictionIT {

    private static final int MIB = 1024 * 1024;

    @TempDir
    Path work;

    private static byte[] blob(int size, long seed) {
        byte[] bytes = new byte[size];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    private Path cached(Digest digest) {
        return work.resolve("cache/blobs/sha256").resolve(digest.hex().substring(0, 2)).resolve(digest.hex());
    }

    @Test
    void aBlobLargerThanTheCapIsStreamedThroughAndEvictsNothing() throws Exception {
        byte[] small = blob(2 * MIB, 65);
        byte[] huge = blob(6 * MIB, 66);
        byte[] later = blob(1 * MIB, 67);
        WireMockServer upstream = new WireMockServer(options().dynamicPort().bindAddress("127.0.0.1"));
        upstream.start();
        try (MirrorFixture mirror = MirrorFixture.start(URI.create(upstream.baseUrl()), work.resolve("cache"),
                Map.of("regmirror.cache.max-size", String.valueOf(4 * MIB)))) {
            for (byte[] bytes : new byte[][] {small, huge, later}) {
                // Registries declare a blob's length; the cap is checked against it before caching.
                upstream.stubFor(get(urlEqualTo("/v2/library/x/blobs/" + Digest.sha256Of(bytes)))
                        .willReturn(aResponse().withHeader("Content-Length", String.valueOf(bytes.length)).withBody(bytes)));
            }
            assertArrayEquals(small, mirror.get("/v2/x/blobs/" + Digest.sha256Of(small)).body());
            mirror.awaitFillsCommitted();
            HttpResponse<byte[]> through = mirror.get("/v2/x/blobs/" + Digest.sha256Of(huge));
            assertEquals(200, through.statusCode());
            assertArrayEquals(huge, through.body(), "served whole, verified");
            assertFalse(Files.exists(cached(Digest.sha256Of(huge))), "not cached");
            assertTrue(Files.exists(cached(Digest.sha256Of(small))), "and nothing else was evicted for it");
            assertArrayEquals(later, mirror.get("/v2/x/blobs/" + Digest.sha256Of(later)).body());
            mirror.awaitFillsCommitted();
            assertTrue(Files.exists(cached(Digest.sha256Of(later))), "the cache is not put off caching the next blob");
            String metrics = new String(mirror.get("/metrics").body());
            assertTrue(metrics.contains("regmirror_cache_evictions_total 0.0"), metrics);
            assertTrue(metrics.contains("regmirror_cache_write_failures_total 0.0"), "not a storage failure: " + metrics);
        } finally {
            upstream.stop();
        }
    }

    @Test
    void aBlobBeingReadOutlivesTheCapUntilItsTransferEnds() throws Exception {
        byte[] a = blob(8 * MIB, 61);
        byte[] b = blob(4 * MIB, 62);
        byte[] c = blob(4 * MIB, 63);
        byte[] d = blob(4 * MIB, 64);
        WireMockServer upstream = new WireMockServer(options().dynamicPort().bindAddress("127.0.0.1"));
        upstream.start();
        try (MirrorFixture mirror = MirrorFixture.start(URI.create(upstream.baseUrl()), work.resolve("cache"),
                Map.of("regmirror.cache.max-size", String.valueOf(12 * MIB)))) {
            for (byte[] bytes : new byte[][] {a, b, c, d}) {
                upstream.stubFor(get(urlEqualTo("/v2/library/x/blobs/" + Digest.sha256Of(bytes)))
                        .willReturn(aResponse().withBody(bytes)));
            }
            assertArrayEquals(a, mirror.get("/v2/x/blobs/" + Digest.sha256Of(a)).body());
            assertArrayEquals(b, mirror.get("/v2/x/blobs/" + Digest.sha256Of(b)).body());
            mirror.awaitFillsCommitted();

            HttpResponse<InputStream> reading = mirror.http().send(
                    mirror.request("/v2/x/blobs/" + Digest.sha256Of(a)).build(), HttpResponse.BodyHandlers.ofInputStream());
            try (InputStream slow = reading.body()) {
                byte[] start = slow.readNBytes(MIB);
                assertArrayEquals(c, mirror.get("/v2/x/blobs/" + Digest.sha256Of(c)).body());
                mirror.awaitFillsCommitted();
                assertTrue(Files.exists(cached(Digest.sha256Of(a))), "the blob being read was not evicted");
                assertFalse(Files.exists(cached(Digest.sha256Of(b))), "the least recently used other one was");
                byte[] rest = slow.readAllBytes();
                byte[] whole = new byte[start.length + rest.length];
                System.arraycopy(start, 0, whole, 0, start.length);
                System.arraycopy(rest, 0, whole, start.length, rest.length);
                assertArrayEquals(a, whole, "the reader got every byte");
            }
            assertArrayEquals(d, mirror.get("/v2/x/blobs/" + Digest.sha256Of(d)).body());
            mirror.awaitFillsCommitted();
            assertFalse(Files.exists(cached(Digest.sha256Of(a))), "once read, it was evictable again");
            String metrics = new String(mirror.get("/metrics").body());
            assertTrue(metrics.contains("regmirror_cache_evictions_total 2.0"), metrics);
        } finally {
            upstream.stop();
        }
    }
}
