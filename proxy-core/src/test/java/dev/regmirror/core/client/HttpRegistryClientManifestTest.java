package dev.regmirror.core.client;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.head;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static dev.regmirror.core.client.Payloads.ALPINE;
import static dev.regmirror.core.client.Payloads.LATEST;
import static dev.regmirror.core.client.Payloads.MANIFEST;
import static dev.regmirror.core.client.Payloads.MANIFEST_BYTES;
import static dev.regmirror.core.client.Payloads.MANIFEST_DIGEST;
import static dev.regmirror.core.client.Payloads.MANIFEST_PATH;
import static dev.regmirror.core.client.UpstreamFixture.await;
import static dev.regmirror.core.client.UpstreamFixture.failure;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.tomakehurst.wiremock.WireMockServer;
import dev.regmirror.core.error.RegistryErrorCode;
import dev.regmirror.core.error.UpstreamErrorException;
import dev.regmirror.core.manifest.ManifestBytes;
import dev.regmirror.core.manifest.MediaTypes;
import dev.regmirror.core.reference.Digest;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Manifest GET and HEAD: media type, digest checks, the size limit, redirects. */
class HttpRegistryClientManifestTest {

    private static final String BY_DIGEST_PATH = "/v2/library/alpine/manifests/" + MANIFEST_DIGEST;

    private final UpstreamFixture fixture = new UpstreamFixture();
    private final WireMockServer upstream = fixture.upstream;
    private final HttpRegistryClient client = fixture.client();

    @AfterEach
    void close() {
        fixture.close();
    }

    @Test
    void manifestIsAskedForWithEveryMediaTypeAndKeptAsSent() throws Exception {
        upstream.stubFor(get(MANIFEST_PATH).willReturn(aResponse().withBody(MANIFEST)
                .withHeader("Content-Type", "application/vnd.docker.distribution.manifest.v2+json; charset=utf-8")
                .withHeader("Docker-Content-Digest", MANIFEST_DIGEST.toString())));

        ManifestBytes manifest = await(client.getManifest(ALPINE, LATEST));

        assertEquals(MediaTypes.DOCKER_MANIFEST, manifest.mediaType());
        assertEquals(MANIFEST_DIGEST, manifest.digest());
        assertArrayEquals(MANIFEST_BYTES, manifest.bytes());
        upstream.verify(1, getRequestedFor(urlEqualTo(MANIFEST_PATH))
                .withHeader("Accept", equalTo(MediaTypes.ACCEPT_ALL_HEADER))
                .withHeader("User-Agent", equalTo(HttpRegistryClient.USER_AGENT)));
    }

    @Test
    void genericContentTypeFallsBackToWhatTheBytesSay() throws Exception {
        upstream.stubFor(get(MANIFEST_PATH).willReturn(aResponse().withBody(Payloads.INDEX_WITHOUT_MEDIA_TYPE)
                .withHeader("Content-Type", "application/json")));

        assertEquals(MediaTypes.OCI_INDEX, await(client.getManifest(ALPINE, LATEST)).mediaType());
    }

    @Test
    void missingContentTypeFallsBackToTheMediaTypeField() throws Exception {
        upstream.stubFor(get(MANIFEST_PATH).willReturn(aResponse().withBody(MANIFEST)));

        assertEquals(MediaTypes.DOCKER_MANIFEST, await(client.getManifest(ALPINE, LATEST)).mediaType());
    }

    @Test
    void manifestByDigestIsVerified() throws Exception {
        upstream.stubFor(get(BY_DIGEST_PATH).willReturn(aResponse().withBody(MANIFEST)
                .withHeader("Content-Type", MediaTypes.DOCKER_MANIFEST)));

        assertEquals(MANIFEST_DIGEST, await(client.getManifest(ALPINE, MANIFEST_DIGEST)).digest());
    }

    @Test
    void manifestWhoseContentDoesNotMatchTheRequestedDigestIsRefused() throws Exception {
        String tampered = MANIFEST.replace("3408729", "3408730");
        upstream.stubFor(get(BY_DIGEST_PATH).willReturn(aResponse().withBody(tampered)
                .withHeader("Content-Type", MediaTypes.DOCKER_MANIFEST)));

        UpstreamErrorException e = failure(client.getManifest(ALPINE, MANIFEST_DIGEST), UpstreamErrorException.class);

        assertEquals(RegistryErrorCode.UPSTREAM_ERROR, e.code());
        Digest actual = Digest.sha256Of(tampered.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        assertTrue(e.getMessage().contains("the content has digest " + actual + ", expected " + MANIFEST_DIGEST),
                e.getMessage());
        assertTrue(e.getMessage().startsWith("pull manifest " + MANIFEST_DIGEST.shortForm() + " of library/alpine"),
                e.getMessage());
    }

    @Test
    void manifestWhoseContentDoesNotMatchDockerContentDigestIsRefused() throws Exception {
        Digest other = Digest.sha256Of(new byte[] {1});
        upstream.stubFor(get(MANIFEST_PATH).willReturn(aResponse().withBody(MANIFEST)
                .withHeader("Docker-Content-Digest", other.toString())));

        UpstreamErrorException e = failure(client.getManifest(ALPINE, LATEST), UpstreamErrorException.class);

        assertEquals(RegistryErrorCode.UPSTREAM_ERROR, e.code());
        assertTrue(e.getMessage().contains(MANIFEST_DIGEST + ", but Docker-Content-Digest says " + other), e.getMessage());
    }

    @Test
    void manifestOverFourMebibytesIsRefused() throws Exception {
        byte[] huge = new byte[ManifestCheck.MAX_MANIFEST + 1];
        upstream.stubFor(get(MANIFEST_PATH).willReturn(aResponse().withBody(huge)));
        upstream.stubFor(get(BY_DIGEST_PATH).willReturn(aResponse().withBody(huge).withChunkedDribbleDelay(4, 100)));

        UpstreamErrorException declared = failure(client.getManifest(ALPINE, LATEST), UpstreamErrorException.class);
        UpstreamErrorException chunked = failure(client.getManifest(ALPINE, MANIFEST_DIGEST), UpstreamErrorException.class);

        assertEquals(RegistryErrorCode.UPSTREAM_ERROR, declared.code());
        assertTrue(declared.getMessage().contains("larger than 4194304"), declared.getMessage());
        assertEquals(RegistryErrorCode.UPSTREAM_ERROR, chunked.code());
        assertTrue(chunked.getMessage().contains("larger than 4194304"), chunked.getMessage());
    }

    @Test
    void headTellsDigestMediaTypeAndSize() throws Exception {
        upstream.stubFor(head(urlEqualTo(MANIFEST_PATH)).willReturn(aResponse()
                .withHeader("Content-Type", MediaTypes.DOCKER_MANIFEST)
                .withHeader("Content-Length", String.valueOf(MANIFEST_BYTES.length))
                .withHeader("Docker-Content-Digest", MANIFEST_DIGEST.toString())));

        ManifestHead manifestHead = await(client.headManifest(ALPINE, LATEST));

        assertEquals(new ManifestHead(Optional.of(MANIFEST_DIGEST), MediaTypes.DOCKER_MANIFEST, MANIFEST_BYTES.length),
                manifestHead);
    }

    @Test
    void headWithoutDigestOrLengthSaysSo() throws Exception {
        upstream.stubFor(head(urlEqualTo(MANIFEST_PATH)).willReturn(aResponse()
                .withHeader("Content-Type", MediaTypes.OCI_INDEX)));

        assertEquals(new ManifestHead(Optional.empty(), MediaTypes.OCI_INDEX, -1), await(client.headManifest(ALPINE, LATEST)));
    }

    @Test
    void headPassesOnTheRemainingRateLimit() throws Exception {
        upstream.stubFor(head(urlEqualTo(MANIFEST_PATH)).willReturn(aResponse()
                .withHeader("Content-Type", MediaTypes.DOCKER_MANIFEST)
                .withHeader("ratelimit-remaining", "7;w=21600")));
        assertEquals(java.util.OptionalLong.of(7), await(client.headManifest(ALPINE, LATEST)).rateLimitRemaining());
    }

    @Test
    void manifestRedirectIsFollowed() throws Exception {
        upstream.stubFor(get(MANIFEST_PATH).willReturn(aResponse().withStatus(307)
                .withHeader("Location", "/mirror/manifest")));
        upstream.stubFor(get("/mirror/manifest").willReturn(aResponse().withBody(MANIFEST)));

        assertEquals(MANIFEST_DIGEST, await(client.getManifest(ALPINE, LATEST)).digest());
        upstream.verify(1, getRequestedFor(urlEqualTo("/mirror/manifest"))
                .withHeader("Accept", equalTo(MediaTypes.ACCEPT_ALL_HEADER)));
    }

    @Test
    void redirectLoopEndsAfterFiveHops() throws Exception {
        upstream.stubFor(get(MANIFEST_PATH).willReturn(aResponse().withStatus(302).withHeader("Location", MANIFEST_PATH)));

        UpstreamErrorException e = failure(client.getManifest(ALPINE, LATEST), UpstreamErrorException.class);

        assertEquals(RegistryErrorCode.UPSTREAM_ERROR, e.code());
        assertTrue(e.getMessage().endsWith("more than 5 redirects"), e.getMessage());
        upstream.verify(6, getRequestedFor(urlEqualTo(MANIFEST_PATH)));
    }

    @Test
    void redirectWithoutLocationIsAnUpstreamError() throws Exception {
        upstream.stubFor(get(MANIFEST_PATH).willReturn(aResponse().withStatus(301)));

        UpstreamErrorException e = failure(client.getManifest(ALPINE, LATEST), UpstreamErrorException.class);

        assertEquals(RegistryErrorCode.UPSTREAM_ERROR, e.code());
        assertTrue(e.getMessage().contains("redirect 301 to an unusable Location"), e.getMessage());
    }
}
