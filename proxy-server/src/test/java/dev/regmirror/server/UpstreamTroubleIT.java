package dev.regmirror.server;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.head;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.tomakehurst.wiremock.WireMockServer;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.testing.RawBlobUpstream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What clients see when the upstream misbehaves in ways a real registry will not show on demand:
 * unreachable, slow, rate-limited, failing, or sending bytes that are wrong or cut off.
 */
class UpstreamTroubleIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String OCI = "application/vnd.oci.image.manifest.v1+json";

    @TempDir
    Path cache;

    private WireMockServer upstream;
    private MirrorFixture mirror;

    @BeforeEach
    void start() throws Exception {
        upstream = new WireMockServer(options().dynamicPort().bindAddress("127.0.0.1"));
        upstream.start();
        mirror = MirrorFixture.start(URI.create(upstream.baseUrl()), cache, Map.of("regmirror.upstream-defaults.read-timeout", "1s"));
    }

    @AfterEach
    void stop() {
        if (mirror != null) {
            mirror.close();
        }
        upstream.stop();
    }

    private static JsonNode error(HttpResponse<byte[]> response) throws IOException {
        return JSON.readTree(response.body()).get("errors").get(0);
    }

    @Test
    void unreachableUpstreamIs503NamingIt() throws Exception {
        int closedPort;
        closedPort = dev.regmirror.core.testing.FreePorts.pick(); // never handed to a listener on port 0
        mirror.close();
        mirror = MirrorFixture.start(URI.create("http://127.0.0.1:" + closedPort), cache, Map.of());
        long start = System.nanoTime();
        HttpResponse<byte[]> response = mirror.get("/v2/library/alpine/manifests/latest");
        assertEquals(503, response.statusCode());
        JsonNode error = error(response);
        assertEquals("UNAVAILABLE", error.get("code").asText());
        assertTrue(error.get("message").asText().contains("docker.io"), error.toString());
        assertTrue(error.get("message").asText().contains("127.0.0.1:" + closedPort), error.toString());
        assertTrue((System.nanoTime() - start) / 1_000_000 < 5_000, "answered within the connect timeout");
    }

    @Test
    void slowUpstreamIs503WithinTheReadTimeout() throws Exception {
        upstream.stubFor(head(urlEqualTo("/v2/library/alpine/manifests/latest"))
                .willReturn(aResponse().withStatus(200).withFixedDelay(10_000)));
        long start = System.nanoTime();
        HttpResponse<byte[]> response = mirror.get("/v2/alpine/manifests/latest");
        long millis = (System.nanoTime() - start) / 1_000_000;
        assertEquals(503, response.statusCode());
        assertEquals("UNAVAILABLE", error(response).get("code").asText());
        assertTrue(millis < 5_000, "gave up after the 1s read timeout, took " + millis + " ms");
    }

    @Test
    void rateLimitPassesOnWithRetryAfterButNotTheRateLimitSource() throws Exception {
        upstream.stubFor(head(urlEqualTo("/v2/library/alpine/manifests/latest")).willReturn(aResponse()
                .withStatus(429).withHeader("Retry-After", "30").withHeader("docker-ratelimit-source", "203.0.113.7")));
        HttpResponse<byte[]> response = mirror.get("/v2/alpine/manifests/latest");
        assertEquals(429, response.statusCode());
        assertEquals("TOOMANYREQUESTS", error(response).get("code").asText());
        assertEquals("30", response.headers().firstValue("Retry-After").orElse(""));
        assertFalse(response.headers().firstValue("docker-ratelimit-source").isPresent());
    }

    @Test
    void upstreamNotFoundIsPassedOnAsManifestUnknown() throws Exception {
        upstream.stubFor(head(urlEqualTo("/v2/library/nope/manifests/latest")).willReturn(aResponse().withStatus(404)));
        upstream.stubFor(get(urlEqualTo("/v2/library/nope/manifests/latest")).willReturn(aResponse().withStatus(404)
                .withHeader("Content-Type", "application/json")
                .withBody("{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\",\"message\":\"manifest unknown\",\"detail\":{\"Tag\":\"latest\"}}]}")));
        HttpResponse<byte[]> response = mirror.get("/v2/nope/manifests/latest");
        assertEquals(404, response.statusCode());
        assertEquals("MANIFEST_UNKNOWN", error(response).get("code").asText());
    }

    @Test
    void upstreamServerErrorIs502NotNotFound() throws Exception {
        upstream.stubFor(head(urlEqualTo("/v2/library/alpine/manifests/latest")).willReturn(aResponse().withStatus(500)));
        upstream.stubFor(get(urlEqualTo("/v2/library/alpine/manifests/latest")).willReturn(aResponse().withStatus(500)));
        HttpResponse<byte[]> response = mirror.get("/v2/alpine/manifests/latest");
        assertEquals(502, response.statusCode());
        assertEquals("UPSTREAM_ERROR", error(response).get("code").asText());
    }

    @Test
    void manifestWithWrongDigestIsRefusedAndNotCached() throws Exception {
        byte[] real = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\"}".getBytes(StandardCharsets.UTF_8);
        Digest asked = Digest.sha256Of("something else".getBytes(StandardCharsets.UTF_8));
        upstream.stubFor(get(urlEqualTo("/v2/library/alpine/manifests/" + asked)).willReturn(aResponse()
                .withStatus(200).withHeader("Content-Type", OCI).withBody(real)));
        HttpResponse<byte[]> response = mirror.get("/v2/alpine/manifests/" + asked, "Accept", OCI);
        assertEquals(502, response.statusCode());
        assertEquals("UPSTREAM_ERROR", error(response).get("code").asText());
        mirror.get("/v2/alpine/manifests/" + asked, "Accept", OCI);
        upstream.verify(2, getRequestedFor(urlEqualTo("/v2/library/alpine/manifests/" + asked)));
    }

    @Test
    void blobWithWrongBytesNeverLooksCompleteAndIsNotCached() throws Exception {
        byte[] served = new byte[300_000];
        new Random(1).nextBytes(served);
        Digest claimed = Digest.sha256Of(new byte[] {42});
        String path = "/v2/library/alpine/blobs/" + claimed;
        upstream.stubFor(get(urlEqualTo(path)).willReturn(aResponse().withStatus(200).withBody(served)));

        assertThrows(IOException.class, () -> mirror.get("/v2/alpine/blobs/" + claimed),
                "the client's response ends in error, never a complete 200");
        assertThrows(IOException.class, () -> mirror.get("/v2/alpine/blobs/" + claimed));
        upstream.verify(2, getRequestedFor(urlEqualTo(path)));
    }

    @Test
    void blobCutOffMidwayEndsTheClientResponseInErrorAndIsNotCached() throws Exception {
        byte[] bytes = new byte[1_000_000];
        new Random(3).nextBytes(bytes);
        Digest digest = Digest.sha256Of(bytes);
        try (RawBlobUpstream truncating = RawBlobUpstream.truncating(bytes, 400_000)) {
            mirror.close();
            mirror = MirrorFixture.start(truncating.uri(), cache, Map.of());
            assertThrows(IOException.class, () -> mirror.get("/v2/alpine/blobs/" + digest),
                    "a body cut off upstream is cut off for the client too, never a short 200");
            assertThrows(IOException.class, () -> mirror.get("/v2/alpine/blobs/" + digest));
            assertEquals(2, truncating.requests(), "the broken download was not cached");
        }
    }

    @Test
    void aMissStreamsToTheClientBeforeTheUpstreamHasFinished() throws Exception {
        byte[] bytes = new byte[2_000_000];
        new Random(4).nextBytes(bytes);
        Digest digest = Digest.sha256Of(bytes);
        try (RawBlobUpstream pausing = RawBlobUpstream.pausing(bytes, 1_000_000)) {
            mirror.close();
            mirror = MirrorFixture.start(pausing.uri(), cache, Map.of("regmirror.upstream-defaults.read-timeout", "30s"));
            HttpResponse<InputStream> response = mirror.http().send(mirror.request("/v2/alpine/blobs/" + digest).build(),
                    HttpResponse.BodyHandlers.ofInputStream());
            assertEquals(200, response.statusCode());
            try (InputStream body = response.body()) {
                byte[] first = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                    try {
                        return body.readNBytes(500_000);
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                }).get(10, java.util.concurrent.TimeUnit.SECONDS);
                assertArrayEquals(java.util.Arrays.copyOf(bytes, 500_000), first,
                        "half a megabyte arrived while the upstream still holds the second half");
                pausing.release();
                byte[] rest = body.readAllBytes();
                assertEquals(bytes.length - first.length, rest.length);
                assertArrayEquals(java.util.Arrays.copyOfRange(bytes, 500_000, bytes.length), rest);
            }
            assertEquals(1, pausing.requests());
        }
    }

    @Test
    void blobIsStreamedThenServedFromDisk() throws Exception {
        byte[] bytes = new byte[3_000_000];
        new Random(2).nextBytes(bytes);
        Digest digest = Digest.sha256Of(bytes);
        String path = "/v2/library/alpine/blobs/" + digest;
        upstream.stubFor(get(urlEqualTo(path)).willReturn(aResponse().withStatus(200).withBody(bytes)));

        HttpResponse<byte[]> first = mirror.get("/v2/alpine/blobs/" + digest);
        assertEquals(200, first.statusCode());
        assertArrayEquals(bytes, first.body());
        assertEquals(digest.toString(), first.headers().firstValue("Docker-Content-Digest").orElse(""));

        HttpResponse<byte[]> second = mirror.get("/v2/library/alpine/blobs/" + digest);
        assertArrayEquals(bytes, second.body());
        HttpResponse<Void> head = mirror.head("/v2/alpine/blobs/" + digest);
        assertEquals(String.valueOf(bytes.length), head.headers().firstValue("Content-Length").orElse(""));
        upstream.verify(1, getRequestedFor(urlEqualTo(path)));
    }
}
