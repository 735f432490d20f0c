package dev.regmirror.core.client;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.absent;
import static com.github.tomakehurst.wiremock.client.WireMock.anyRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.head;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static dev.regmirror.core.client.FailoverFixture.LATEST;
import static dev.regmirror.core.client.FailoverFixture.MANIFEST_PATH;
import static dev.regmirror.core.client.FailoverFixture.NGINX;
import static dev.regmirror.core.client.FailoverFixture.STATION_MANIFEST_PATH;
import static dev.regmirror.core.client.Payloads.MANIFEST;
import static dev.regmirror.core.client.Payloads.MANIFEST_BYTES;
import static dev.regmirror.core.client.Payloads.MANIFEST_DIGEST;
import static dev.regmirror.core.client.UpstreamFixture.await;
import static dev.regmirror.core.client.UpstreamFixture.failure;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder;
import com.github.tomakehurst.wiremock.http.Fault;
import dev.regmirror.core.error.RegistryErrorCode;
import dev.regmirror.core.error.UpstreamErrorException;
import dev.regmirror.core.error.UpstreamUnavailableException;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.testing.MutableClock;
import dev.regmirror.core.upstream.Endpoint;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Which endpoint of an upstream answers: in order, moving on only for the failures that call for it. */
class FailoverRegistryClientTest {

    private static final byte[] LAYER = layer();
    private static final Digest LAYER_DIGEST = Digest.sha256Of(LAYER);
    private static final String LAYER_PATH = "/v2/library/nginx/blobs/" + LAYER_DIGEST;

    private final FailoverFixture fixture = new FailoverFixture();

    @AfterEach
    void close() {
        fixture.close();
    }

    private static byte[] layer() {
        byte[] bytes = new byte[256 * 1024];
        new Random(7).nextBytes(bytes);
        return bytes;
    }

    private static ResponseDefinitionBuilder manifest() {
        return aResponse().withBody(MANIFEST).withHeader("Content-Type",
                "application/vnd.docker.distribution.manifest.v2+json");
    }

    private FailoverRegistryClient registryThenMirror() {
        return fixture.client(fixture.registryEndpoint(), fixture.mirrorEndpoint());
    }

    @Test
    void firstEndpointThatAnswersIsTheOnlyOneAsked() throws Exception {
        fixture.registry.stubFor(get(MANIFEST_PATH).willReturn(manifest()));
        FailoverRegistryClient client = registryThenMirror();

        assertArrayEquals(MANIFEST_BYTES, await(client.getManifest(NGINX, LATEST)).bytes());

        assertEquals("docker.io", client.registry());
        fixture.registry.verify(1, getRequestedFor(urlEqualTo(MANIFEST_PATH)));
        fixture.mirror.verify(0, anyRequestedFor(anyUrl()));
    }

    @Test
    void endpointRefusingConnectionsIsPassedOver() throws Exception {
        fixture.mirror.stubFor(get(MANIFEST_PATH).willReturn(manifest()));
        Endpoint refusing = FailoverFixture.refusing(fixture.registryEndpoint().settings());

        assertEquals(MANIFEST_DIGEST, await(fixture.client(refusing, fixture.mirrorEndpoint())
                .getManifest(NGINX, LATEST)).digest());
    }

    @ParameterizedTest
    @ValueSource(ints = {500, 502, 503, 504, 429})
    void serverErrorOrRateLimitMovesOnToTheNextEndpoint(int status) throws Exception {
        fixture.registry.stubFor(get(MANIFEST_PATH).willReturn(aResponse().withStatus(status)));
        fixture.mirror.stubFor(get(MANIFEST_PATH).willReturn(manifest()));

        assertEquals(MANIFEST_DIGEST, await(registryThenMirror().getManifest(NGINX, LATEST)).digest());

        fixture.registry.verify(1, getRequestedFor(urlEqualTo(MANIFEST_PATH)));
        fixture.mirror.verify(1, getRequestedFor(urlEqualTo(MANIFEST_PATH)));
    }

    @Test
    void notFoundFromAFullEndpointIsTheAnswer() throws Exception {
        fixture.registry.stubFor(get(MANIFEST_PATH).willReturn(aResponse().withStatus(404)));
        fixture.mirror.stubFor(get(MANIFEST_PATH).willReturn(manifest()));

        UpstreamErrorException e = failure(registryThenMirror().getManifest(NGINX, LATEST),
                UpstreamErrorException.class);

        assertEquals(RegistryErrorCode.MANIFEST_UNKNOWN, e.code());
        assertTrue(e.getMessage().startsWith("pull manifest latest of library/nginx from docker.io (http://localhost:"
                + fixture.registry.port() + "): upstream answered 404"), e.getMessage());
        fixture.mirror.verify(0, anyRequestedFor(anyUrl()));
    }

    @ParameterizedTest
    @ValueSource(ints = {400, 401, 403})
    void refusalIsTheAnswer(int status) throws Exception {
        fixture.registry.stubFor(get(MANIFEST_PATH).willReturn(aResponse().withStatus(status)));
        fixture.mirror.stubFor(get(MANIFEST_PATH).willReturn(manifest()));

        UpstreamErrorException e = failure(registryThenMirror().getManifest(NGINX, LATEST),
                UpstreamErrorException.class);

        assertEquals(status, e.upstreamStatus());
        fixture.mirror.verify(0, anyRequestedFor(anyUrl()));
    }

    @Test
    void syncStationIsAskedUnderItsOwnNamesAndItsNotFoundMovesOn() throws Exception {
        fixture.station.stubFor(get(STATION_MANIFEST_PATH).willReturn(aResponse().withStatus(404)));
        fixture.registry.stubFor(get(MANIFEST_PATH).willReturn(manifest()));
        FailoverRegistryClient client = fixture.client(fixture.stationEndpoint(), fixture.registryEndpoint());

        assertEquals(MANIFEST_DIGEST, await(client.getManifest(NGINX, LATEST)).digest());

        fixture.station.verify(1, getRequestedFor(urlEqualTo(STATION_MANIFEST_PATH)));
        fixture.registry.verify(1, getRequestedFor(urlEqualTo(MANIFEST_PATH)));
    }

    @Test
    void syncStationThatHasTheImageServesItAndTheRegistryIsNotAsked() throws Exception {
        fixture.station.stubFor(get(STATION_MANIFEST_PATH).willReturn(manifest()));
        fixture.station.stubFor(head(urlEqualTo(STATION_MANIFEST_PATH)).willReturn(aResponse()
                .withHeader("Docker-Content-Digest", MANIFEST_DIGEST.toString()).withHeader("Content-Length", "10")));
        FailoverRegistryClient client = fixture.client(fixture.stationEndpoint(), fixture.registryEndpoint());

        assertEquals(MANIFEST_DIGEST, await(client.getManifest(NGINX, LATEST)).digest());
        assertEquals(Optional.of(MANIFEST_DIGEST), await(client.headManifest(NGINX, LATEST)).digest());

        fixture.registry.verify(0, anyRequestedFor(anyUrl()));
    }

    @Test
    void manifestWithTheWrongDigestMovesOnWithoutSkippingTheEndpoint() throws Exception {
        fixture.registry.stubFor(get(MANIFEST_PATH).willReturn(manifest()
                .withHeader("Docker-Content-Digest", Digest.sha256Of(new byte[1]).toString())));
        fixture.mirror.stubFor(get(MANIFEST_PATH).willReturn(manifest()));
        FailoverRegistryClient client = registryThenMirror();

        assertEquals(MANIFEST_DIGEST, await(client.getManifest(NGINX, LATEST)).digest());
        assertEquals(MANIFEST_DIGEST, await(client.getManifest(NGINX, LATEST)).digest());

        fixture.registry.verify(2, getRequestedFor(urlEqualTo(MANIFEST_PATH)));
    }

    @Test
    void blobFetchedAfterFailoverStreamsTheRightBytes() throws Exception {
        fixture.station.stubFor(get("/v2/ddn-k8s/docker.io/library/nginx/blobs/" + LAYER_DIGEST)
                .willReturn(aResponse().withStatus(404)));
        fixture.registry.stubFor(get(LAYER_PATH).willReturn(aResponse().withStatus(503)));
        fixture.registry.stubFor(head(urlEqualTo(LAYER_PATH)).willReturn(aResponse().withStatus(503)));
        fixture.mirror.stubFor(get(LAYER_PATH).willReturn(aResponse().withBody(LAYER)));
        fixture.mirror.stubFor(head(urlEqualTo(LAYER_PATH)).willReturn(aResponse()
                .withHeader("Content-Length", String.valueOf(LAYER.length))));
        FailoverRegistryClient client = fixture.client(fixture.stationEndpoint(), fixture.registryEndpoint(),
                fixture.mirrorEndpoint());

        assertEquals(LAYER.length, await(client.headBlob(NGINX, LAYER_DIGEST)).size());
        BlobBody body = await(client.getBlob(NGINX, LAYER_DIGEST));

        assertArrayEquals(LAYER, await(BodySubscriber.readAll(body).result));
        fixture.mirror.verify(1, getRequestedFor(urlEqualTo(LAYER_PATH)));
    }

    @Test
    void blobBodyBreakingAfterTheUpstreamAnsweredIsNotRetriedElsewhere() throws Exception {
        fixture.registry.stubFor(get(LAYER_PATH).willReturn(aResponse().withFault(Fault.MALFORMED_RESPONSE_CHUNK)));
        fixture.mirror.stubFor(get(LAYER_PATH).willReturn(aResponse().withBody(LAYER)));

        BlobBody body = await(registryThenMirror().getBlob(NGINX, LAYER_DIGEST));

        try {
            BodySubscriber.readAll(body).result.get(10, TimeUnit.SECONDS);
            throw new AssertionError("the body completed");
        } catch (ExecutionException e) {
            assertInstanceOf(UpstreamUnavailableException.class, e.getCause());
        }
        fixture.mirror.verify(0, anyRequestedFor(anyUrl()));
    }

    @Test
    void tagsAreListedFromTheNextEndpointUnderItsNames() throws Exception {
        fixture.registry.stubFor(get(urlPathEqualTo("/v2/library/nginx/tags/list")).willReturn(aResponse().withStatus(502)));
        fixture.station.stubFor(get(urlEqualTo("/v2/ddn-k8s/docker.io/library/nginx/tags/list?n=2"))
                .willReturn(okJson("{\"name\":\"ddn-k8s/docker.io/library/nginx\",\"tags\":[\"1.25\",\"latest\"]}")));
        FailoverRegistryClient client = fixture.client(fixture.registryEndpoint(), fixture.stationEndpoint());

        assertEquals(new TagList(List.of("1.25", "latest"), Optional.empty()),
                await(client.listTags(NGINX, OptionalInt.of(2), Optional.empty())));
    }

    @Test
    void referrersAreListedFromTheNextEndpointUnderItsNames() throws Exception {
        String list = "{\"schemaVersion\":2,\"manifests\":[]}";
        fixture.registry.stubFor(get(urlPathEqualTo("/v2/library/nginx/referrers/" + MANIFEST_DIGEST))
                .willReturn(aResponse().withStatus(503)));
        fixture.station.stubFor(get(urlEqualTo("/v2/ddn-k8s/docker.io/library/nginx/referrers/" + MANIFEST_DIGEST))
                .willReturn(aResponse().withBody(list).withHeader("Content-Type", "application/vnd.oci.image.index.v1+json")));
        FailoverRegistryClient client = fixture.client(fixture.registryEndpoint(), fixture.stationEndpoint());

        UpstreamReferrers.Listed listed = assertInstanceOf(UpstreamReferrers.Listed.class,
                await(client.listReferrers(NGINX, MANIFEST_DIGEST, Optional.empty())));
        assertEquals(list, new String(listed.index(), java.nio.charset.StandardCharsets.UTF_8));
    }

    @Test
    void onlyTheConfiguredEndpointsAreContacted() throws Exception {
        fixture.station.stubFor(get(STATION_MANIFEST_PATH).willReturn(aResponse().withStatus(404)));
        fixture.registry.stubFor(get(MANIFEST_PATH).willReturn(aResponse().withStatus(503)));
        fixture.mirror.stubFor(get(MANIFEST_PATH).willReturn(manifest()));
        FailoverRegistryClient client = fixture.client(fixture.stationEndpoint(), fixture.registryEndpoint(),
                fixture.mirrorEndpoint());

        await(client.getManifest(NGINX, LATEST));

        assertEquals(Set.of("localhost:" + fixture.station.port(), "localhost:" + fixture.registry.port(),
                "127.0.0.1:" + fixture.mirror.port()), fixture.hostsContacted());
    }

    @Test
    void manifestRedirectedToAnotherHostGoesThereWithoutTheEndpointsCredentials() throws Exception {
        var withCredentials = new dev.regmirror.core.upstream.EndpointSettings("docker.io",
                fixture.registryEndpoint().settings().url(), Optional.of(UpstreamFixture.CREDENTIALS), Optional.empty(),
                java.time.Duration.ofSeconds(5), UpstreamFixture.READ_TIMEOUT, Optional.empty(), Optional.empty());
        fixture.registry.stubFor(get(MANIFEST_PATH).withHeader("Authorization", absent()).willReturn(aResponse()
                .withStatus(401).withHeader("WWW-Authenticate", "Basic realm=\"registry\"")));
        fixture.registry.stubFor(get(MANIFEST_PATH).withHeader("Authorization",
                equalTo(TokenFetcher.basic(UpstreamFixture.CREDENTIALS))).willReturn(aResponse().withStatus(307)
                .withHeader("Location", "http://127.0.0.1:" + fixture.mirror.port() + "/content/nginx")));
        fixture.mirror.stubFor(get("/content/nginx").willReturn(manifest()));

        assertEquals(MANIFEST_DIGEST, await(fixture.client(Endpoint.of(withCredentials), fixture.stationEndpoint())
                .getManifest(NGINX, LATEST)).digest());

        fixture.mirror.verify(1, getRequestedFor(urlEqualTo("/content/nginx")).withHeader("Authorization", absent()));
        fixture.station.verify(0, anyRequestedFor(anyUrl()));
    }

    @Test
    void tokenOneEndpointIssuedIsNeverSentToAnother() throws Exception {
        String realm = "http://localhost:" + fixture.registry.port() + "/token";
        fixture.registry.stubFor(get(MANIFEST_PATH).withHeader("Authorization", absent()).willReturn(aResponse()
                .withStatus(401).withHeader("WWW-Authenticate", "Bearer realm=\"" + realm + "\",service=\"registry\"")));
        fixture.registry.stubFor(get(urlPathEqualTo("/token")).willReturn(okJson(Payloads.tokenJson("hub-token", 300))));
        fixture.registry.stubFor(get(MANIFEST_PATH).withHeader("Authorization", equalTo("Bearer hub-token"))
                .willReturn(manifest()));
        fixture.mirror.stubFor(get(MANIFEST_PATH).willReturn(manifest()));
        FailoverRegistryClient client = fixture.created(FailoverFixture.upstream(fixture.registryEndpoint(),
                fixture.mirrorEndpoint()), new MutableClock());
        await(client.getManifest(NGINX, LATEST));
        fixture.registry.stubFor(get(MANIFEST_PATH).willReturn(aResponse().withStatus(503)));

        await(client.getManifest(NGINX, LATEST));

        fixture.registry.verify(getRequestedFor(urlEqualTo(MANIFEST_PATH)).withHeader("Authorization",
                equalTo("Bearer hub-token")));
        fixture.mirror.verify(1, getRequestedFor(urlEqualTo(MANIFEST_PATH)).withHeader("Authorization", absent()));
    }
}
