package dev.regmirror.server;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.tomakehurst.wiremock.WireMockServer;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.testing.RawBlobUpstream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Range requests as containerd makes them for resumable and parallel layer fetches: a part of a
 * cached blob, a part of a blob still downloading, ranges outside the blob, and several ranges of
 * one cold blob at once, which still make one upstream download.
 */
class RangeIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int SIZE = 2_000_000;

    @TempDir
    Path cache;

    private final byte[] bytes = blob();
    private final Digest digest = Digest.sha256Of(bytes);
    private final String path = "/v2/alpine/blobs/" + digest;
    private WireMockServer wireMock;
    private MirrorFixture mirror;

    private static byte[] blob() {
        byte[] bytes = new byte[SIZE];
        new Random(7).nextBytes(bytes);
        return bytes;
    }

    @AfterEach
    void stop() {
        if (mirror != null) {
            mirror.close();
        }
        if (wireMock != null) {
            wireMock.stop();
        }
    }

    /** A mirror whose upstream serves the blob at once, and the blob already pulled into the cache. */
    private void startWithTheBlobCached() throws Exception {
        wireMock = new WireMockServer(options().dynamicPort().bindAddress("127.0.0.1"));
        wireMock.start();
        wireMock.stubFor(get(urlEqualTo("/v2/library/alpine/blobs/" + digest))
                .willReturn(aResponse().withStatus(200).withBody(bytes)));
        mirror = MirrorFixture.start(URI.create(wireMock.baseUrl()), cache, Map.of());
        assertArrayEquals(bytes, mirror.get(path).body());
    }

    private void assertPart(HttpResponse<byte[]> response, int first, int last) {
        assertEquals(206, response.statusCode());
        assertEquals("bytes " + first + "-" + last + "/" + SIZE, response.headers().firstValue("Content-Range").orElse(""));
        assertEquals(String.valueOf(last - first + 1), response.headers().firstValue("Content-Length").orElse(""));
        assertEquals("bytes", response.headers().firstValue("Accept-Ranges").orElse(""));
        assertEquals(digest.toString(), response.headers().firstValue("Docker-Content-Digest").orElse(""));
        assertArrayEquals(Arrays.copyOfRange(bytes, first, last + 1), response.body());
    }

    @Test
    void aRangeOfACachedBlobIsThatSlice() throws Exception {
        startWithTheBlobCached();
        assertPart(mirror.get(path, "Range", "bytes=1000-1999"), 1000, 1999);
        assertPart(mirror.get(path, "Range", "bytes=0-0"), 0, 0);
        assertPart(mirror.get(path, "Range", "bytes=1999000-9999999"), 1_999_000, SIZE - 1);
        wireMock.verify(1, getRequestedFor(urlEqualTo("/v2/library/alpine/blobs/" + digest)));
    }

    @Test
    void anOpenEndedRangeRunsToTheEnd() throws Exception {
        startWithTheBlobCached();
        assertPart(mirror.get(path, "Range", "bytes=1234567-"), 1_234_567, SIZE - 1);
    }

    @Test
    void aSuffixRangeIsTheLastBytes() throws Exception {
        startWithTheBlobCached();
        assertPart(mirror.get(path, "Range", "bytes=-4321"), SIZE - 4321, SIZE - 1);
    }

    @Test
    void aRangeOutsideTheBlobIs416NamingTheSize() throws Exception {
        startWithTheBlobCached();
        for (String range : List.of("bytes=2000000-", "bytes=-0")) {
            HttpResponse<byte[]> response = mirror.get(path, "Range", range);
            assertEquals(416, response.statusCode(), range);
            assertEquals("bytes */" + SIZE, response.headers().firstValue("Content-Range").orElse(""));
            JsonNode error = JSON.readTree(response.body()).get("errors").get(0);
            assertEquals("RANGE_INVALID", error.get("code").asText());
        }
    }

    @Test
    void rangesThatCannotBeServedAsAskedGetTheWholeBlob() throws Exception {
        startWithTheBlobCached();
        for (String[] headers : List.of(new String[] {"Range", "bytes=0-1,5-6"}, new String[] {"Range", "pages=1-2"},
                new String[] {"Range", "bytes=9-3"}, new String[] {"Range", "bytes=0-9", "If-Range", "\"sha256:other\""})) {
            HttpResponse<byte[]> response = mirror.get(path, headers);
            assertEquals(200, response.statusCode(), String.join(" ", headers));
            assertEquals("bytes", response.headers().firstValue("Accept-Ranges").orElse(""));
            assertArrayEquals(bytes, response.body());
        }
        assertPart(mirror.get(path, "Range", "bytes=0-9", "If-Range", "\"" + digest + "\""), 0, 9);
    }

    @Test
    void headSaysRangesAreAcceptedAndAnswersARangeAsGetWould() throws Exception {
        startWithTheBlobCached();
        HttpResponse<Void> head = mirror.head(path);
        assertEquals(200, head.statusCode());
        assertEquals("bytes", head.headers().firstValue("Accept-Ranges").orElse(""));
        assertEquals(String.valueOf(SIZE), head.headers().firstValue("Content-Length").orElse(""));

        HttpResponse<Void> part = mirror.head(path, "Range", "bytes=10-19");
        assertEquals(206, part.statusCode());
        assertEquals("bytes 10-19/" + SIZE, part.headers().firstValue("Content-Range").orElse(""));
        assertEquals("10", part.headers().firstValue("Content-Length").orElse(""));

        HttpResponse<Void> outside = mirror.head(path, "Range", "bytes=" + SIZE + "-");
        assertEquals(416, outside.statusCode());
        assertEquals("bytes */" + SIZE, outside.headers().firstValue("Content-Range").orElse(""));
    }

    @Test
    void aRangeOfABlobStillFillingArrivesAsSoonAsItsBytesAreHere() throws Exception {
        try (RawBlobUpstream pausing = RawBlobUpstream.pausing(bytes, SIZE / 2)) {
            mirror = MirrorFixture.start(pausing.uri(), cache, Map.of("regmirror.upstream-defaults.read-timeout", "30s"));

            HttpResponse<byte[]> early = mirror.http().sendAsync(
                    mirror.request(path).header("Range", "bytes=100000-599999").build(),
                    HttpResponse.BodyHandlers.ofByteArray()).get(20, TimeUnit.SECONDS);
            assertPart(early, 100_000, 599_999);

            CompletableFuture<HttpResponse<byte[]>> late = mirror.http().sendAsync(
                    mirror.request(path).header("Range", "bytes=900000-").build(), HttpResponse.BodyHandlers.ofByteArray());
            pausing.release();
            assertPart(late.get(20, TimeUnit.SECONDS), 900_000, SIZE - 1);
            assertEquals(1, pausing.requests());
        }
    }

    @Test
    void aRangeOfAFillThatFailsEndsInError() throws Exception {
        try (RawBlobUpstream truncating = RawBlobUpstream.truncating(bytes, 400_000)) {
            mirror = MirrorFixture.start(truncating.uri(), cache, Map.of());
            assertThrows(IOException.class, () -> mirror.get(path, "Range", "bytes=500000-599999"),
                    "a part the upstream never sent is cut off, never a short 206");
        }
    }

    @Test
    void aRangeWithTheLastByteOfABlobThatFailsVerificationEndsInError() throws Exception {
        wireMock = new WireMockServer(options().dynamicPort().bindAddress("127.0.0.1"));
        wireMock.start();
        Digest claimed = Digest.sha256Of(new byte[] {42});
        wireMock.stubFor(get(urlEqualTo("/v2/library/alpine/blobs/" + claimed))
                .willReturn(aResponse().withStatus(200).withBody(bytes)));
        mirror = MirrorFixture.start(URI.create(wireMock.baseUrl()), cache, Map.of());
        assertThrows(IOException.class, () -> mirror.get("/v2/alpine/blobs/" + claimed, "Range", "bytes=-100"),
                "the last byte waits for verification, so a part that includes it never looks complete");
    }

    @Test
    void parallelRangesOfAColdBlobReassembleItFromOneUpstreamDownload() throws Exception {
        try (RawBlobUpstream pausing = RawBlobUpstream.pausing(bytes, SIZE / 2)) {
            mirror = MirrorFixture.start(pausing.uri(), cache, Map.of("regmirror.upstream-defaults.read-timeout", "30s"));
            int part = SIZE / 4;
            List<CompletableFuture<HttpResponse<InputStream>>> responses = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                String range = "bytes=" + i * part + "-" + (i == 3 ? "" : String.valueOf((i + 1) * part - 1));
                responses.add(mirror.http().sendAsync(mirror.request(path).header("Range", range).build(),
                        HttpResponse.BodyHandlers.ofInputStream()));
            }
            List<HttpResponse<InputStream>> started = new ArrayList<>();
            for (CompletableFuture<HttpResponse<InputStream>> response : responses) {
                started.add(response.get(20, TimeUnit.SECONDS));
            }
            pausing.release();

            ByteArrayOutputStream reassembled = new ByteArrayOutputStream();
            for (int i = 0; i < 4; i++) {
                HttpResponse<InputStream> response = started.get(i);
                assertEquals(206, response.statusCode());
                assertEquals("bytes " + i * part + "-" + ((i + 1) * part - 1) + "/" + SIZE,
                        response.headers().firstValue("Content-Range").orElse(""));
                reassembled.write(readAll(response.body()));
            }
            assertArrayEquals(bytes, reassembled.toByteArray());
            assertEquals(1, pausing.requests(), "all four parts followed the one download");
        }
    }

    private static byte[] readAll(InputStream body) throws Exception {
        return CompletableFuture.supplyAsync(() -> {
            try (body) {
                return body.readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }).get(20, TimeUnit.SECONDS);
    }
}
