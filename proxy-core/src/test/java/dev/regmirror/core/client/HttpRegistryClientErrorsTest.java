package dev.regmirror.core.client;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.head;
import static dev.regmirror.core.client.Payloads.ALPINE;
import static dev.regmirror.core.client.Payloads.LATEST;
import static dev.regmirror.core.client.Payloads.MANIFEST_DIGEST;
import static dev.regmirror.core.client.Payloads.MANIFEST_PATH;
import static dev.regmirror.core.client.UpstreamFixture.failure;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder;
import dev.regmirror.core.error.RegistryErrorCode;
import dev.regmirror.core.error.UpstreamErrorException;
import dev.regmirror.core.error.UpstreamUnavailableException;
import java.net.ConnectException;
import java.net.URI;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** How upstream error answers and unreachable upstreams reach the caller. */
class HttpRegistryClientErrorsTest {

    private static final String BLOB_PATH = "/v2/library/alpine/blobs/" + MANIFEST_DIGEST;

    private final UpstreamFixture fixture = new UpstreamFixture();
    private final WireMockServer upstream = fixture.upstream;
    private final HttpRegistryClient client = fixture.client();

    @AfterEach
    void close() {
        fixture.close();
    }

    private static ResponseDefinitionBuilder error(int status, String code, String message) {
        return aResponse().withStatus(status).withHeader("Content-Type", "application/json")
                .withBody("{\"errors\":[{\"code\":\"" + code + "\",\"message\":\"" + message
                        + "\",\"detail\":{\"Tag\":\"latest\"}}]}");
    }

    private UpstreamErrorException manifestError(ResponseDefinitionBuilder answer) throws Exception {
        upstream.stubFor(get(MANIFEST_PATH).willReturn(answer));
        return failure(client.getManifest(ALPINE, LATEST), UpstreamErrorException.class);
    }

    @Test
    void missingManifestIsManifestUnknownWithTheUpstreamsMessageAndDetail() throws Exception {
        UpstreamErrorException e = manifestError(error(404, "MANIFEST_UNKNOWN", "manifest unknown"));

        assertEquals(RegistryErrorCode.MANIFEST_UNKNOWN, e.code());
        assertEquals(404, e.upstreamStatus());
        assertTrue(e.isNotFound());
        assertEquals("docker.io", e.upstream());
        assertEquals("pull manifest latest of library/alpine from docker.io (" + fixture.url()
                + "): upstream answered 404 MANIFEST_UNKNOWN: manifest unknown", e.getMessage());
        assertEquals(Map.of("Tag", "latest"), e.detail());
    }

    @Test
    void notFoundKeepsANotFoundCodeWhateverTheBodySays() throws Exception {
        assertEquals(RegistryErrorCode.NAME_UNKNOWN, manifestError(error(404, "NAME_UNKNOWN", "no such repo")).code());
        assertEquals(RegistryErrorCode.MANIFEST_UNKNOWN, manifestError(error(404, "DENIED", "odd")).code());
        assertEquals(RegistryErrorCode.MANIFEST_UNKNOWN, manifestError(error(404, "NOT_FOUND", "a mirror's own")).code());
        assertEquals(RegistryErrorCode.MANIFEST_UNKNOWN, manifestError(aResponse().withStatus(404).withBody("<html>")).code());
    }

    @Test
    void missingBlobWithoutBodyIsBlobUnknown() throws Exception {
        upstream.stubFor(get(BLOB_PATH).willReturn(aResponse().withStatus(404)));

        UpstreamErrorException e = failure(client.getBlob(ALPINE, MANIFEST_DIGEST), UpstreamErrorException.class);

        assertEquals(RegistryErrorCode.BLOB_UNKNOWN, e.code());
        assertTrue(e.getMessage().startsWith("pull blob " + MANIFEST_DIGEST.shortForm() + " of library/alpine"),
                e.getMessage());
    }

    @Test
    void statusesWithoutBodyMapToTheirCodes() throws Exception {
        assertEquals(RegistryErrorCode.UNAUTHORIZED, manifestError(aResponse().withStatus(401)).code());
        assertEquals(RegistryErrorCode.DENIED, manifestError(aResponse().withStatus(403)).code());
        assertEquals(RegistryErrorCode.TOOMANYREQUESTS, manifestError(aResponse().withStatus(429)).code());
        assertEquals(RegistryErrorCode.UPSTREAM_ERROR, manifestError(aResponse().withStatus(418)).code());
    }

    @Test
    void headAnswersAreMappedByStatus() throws Exception {
        upstream.stubFor(head(com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo(MANIFEST_PATH))
                .willReturn(aResponse().withStatus(404)));
        upstream.stubFor(head(com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo(BLOB_PATH))
                .willReturn(aResponse().withStatus(403)));

        assertEquals(RegistryErrorCode.MANIFEST_UNKNOWN,
                failure(client.headManifest(ALPINE, LATEST), UpstreamErrorException.class).code());
        assertEquals(RegistryErrorCode.DENIED,
                failure(client.headBlob(ALPINE, MANIFEST_DIGEST), UpstreamErrorException.class).code());
    }

    @Test
    void rateLimitPassesRetryAfterAndRateLimitHeadersButNotTheSource() throws Exception {
        UpstreamErrorException e = manifestError(error(429, "TOOMANYREQUESTS", "You have reached your pull rate limit.")
                .withHeader("Retry-After", "120")
                .withHeader("ratelimit-limit", "100;w=21600")
                .withHeader("ratelimit-remaining", "0;w=21600")
                .withHeader("docker-ratelimit-source", "203.0.113.7"));

        assertEquals(RegistryErrorCode.TOOMANYREQUESTS, e.code());
        assertEquals(Map.of("Retry-After", "120", "RateLimit-Limit", "100;w=21600", "RateLimit-Remaining", "0;w=21600"),
                e.headers());
    }

    @Test
    void serverErrorIsUpstreamErrorEvenWhenItsBodyCarriesACode() throws Exception {
        UpstreamErrorException e = manifestError(error(503, "MANIFEST_UNKNOWN", "backend down"));

        assertEquals(RegistryErrorCode.UPSTREAM_ERROR, e.code());
        assertEquals(503, e.upstreamStatus());
        assertTrue(e.getMessage().contains("upstream answered 503"), e.getMessage());
        assertEquals(RegistryErrorCode.UPSTREAM_ERROR, manifestError(aResponse().withStatus(500).withBody("oops")).code());
    }

    @Test
    void unknownErrorCodeIsUnknownNeverAnException() throws Exception {
        assertEquals(RegistryErrorCode.UNKNOWN, manifestError(error(400, "FROBNICATED", "what")).code());
        assertEquals(RegistryErrorCode.UNKNOWN, manifestError(error(400, "UNAVAILABLE", "a mirror's own code")).code());
        assertEquals(RegistryErrorCode.UNKNOWN, manifestError(error(400, "PARAMETER_INVALID", "also ours")).code());
        assertEquals(RegistryErrorCode.MANIFEST_INVALID, manifestError(error(400, "MANIFEST_INVALID", "bad")).code());
        assertEquals(RegistryErrorCode.UPSTREAM_ERROR, manifestError(aResponse().withStatus(400).withBody("[")).code());
    }

    @Test
    void hugeErrorBodyIsNotReadAsAnError() throws Exception {
        String padding = " ".repeat(UpstreamErrors.MAX_BODY);
        UpstreamErrorException e = manifestError(aResponse().withStatus(404)
                .withBody("{\"errors\":[{\"code\":\"NAME_UNKNOWN\"}]}" + padding));

        assertEquals(RegistryErrorCode.MANIFEST_UNKNOWN, e.code());
    }

    @Test
    void connectionRefusedIsUnavailableNamingTheUpstream() throws Exception {
        URI closed = URI.create("http://127.0.0.1:" + UpstreamFixture.closedPort());
        HttpRegistryClient refused = fixture.client(fixture.settings(closed, Optional.empty(), Optional.empty()));

        UpstreamUnavailableException e = failure(refused.getManifest(ALPINE, LATEST), UpstreamUnavailableException.class);

        assertEquals("docker.io", e.upstream());
        assertEquals(RegistryErrorCode.UNAVAILABLE, e.code());
        assertEquals("pull manifest latest of library/alpine from docker.io (" + closed + "): connection refused",
                e.getMessage());
        assertInstanceOf(ConnectException.class, e.getCause());
        failure(refused.getBlob(ALPINE, MANIFEST_DIGEST), UpstreamUnavailableException.class);
        failure(refused.headBlob(ALPINE, MANIFEST_DIGEST), UpstreamUnavailableException.class);
        failure(refused.headManifest(ALPINE, LATEST), UpstreamUnavailableException.class);
    }

    @Test
    void upstreamSlowerThanTheReadTimeoutIsUnavailableWithinAboutTheTimeout() throws Exception {
        upstream.stubFor(get(MANIFEST_PATH).willReturn(aResponse().withStatus(200).withFixedDelay(5_000)));
        long start = System.nanoTime();

        UpstreamUnavailableException e = failure(fixture.client(fixture.impatient(fixture.url()))
                .getManifest(ALPINE, LATEST), UpstreamUnavailableException.class);

        long millis = (System.nanoTime() - start) / 1_000_000;
        assertTrue(millis < 3_000, "took " + millis + " ms");
        assertTrue(e.getMessage().endsWith("no response within 0.7s"), e.getMessage());
    }

    /**
     * A manifest trickled with pauses shorter than the read timeout still ends at the read timeout
     * in all: it would otherwise hold every pull of the tag waiting on the shared fetch.
     */
    @Test
    void aManifestTrickledPastTheReadTimeoutInAllIsUnavailable() throws Exception {
        upstream.stubFor(get(MANIFEST_PATH).willReturn(aResponse().withStatus(200)
                .withHeader("Content-Type", "application/vnd.oci.image.manifest.v1+json")
                .withBody("{\"schemaVersion\":2,\"padding\":\"" + "x".repeat(2000) + "\"}")
                .withChunkedDribbleDelay(20, 4_000)));

        UpstreamUnavailableException e = failure(fixture.client(fixture.impatient(fixture.url()))
                .getManifest(ALPINE, LATEST), UpstreamUnavailableException.class);

        assertTrue(e.getMessage().endsWith("answer not whole within 0.7s (the read timeout)"), e.getMessage());
    }

    @Test
    void errorWithoutDetailHasNullDetail() throws Exception {
        UpstreamErrorException e = manifestError(aResponse().withStatus(403)
                .withBody("{\"errors\":[{\"code\":\"DENIED\",\"message\":\"requested access to the resource is denied\"}]}"));

        assertEquals(RegistryErrorCode.DENIED, e.code());
        assertNull(e.detail());
    }
}
