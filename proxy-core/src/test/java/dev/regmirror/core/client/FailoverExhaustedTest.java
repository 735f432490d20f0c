package dev.regmirror.core.client;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static dev.regmirror.core.client.FailoverFixture.LATEST;
import static dev.regmirror.core.client.FailoverFixture.MANIFEST_PATH;
import static dev.regmirror.core.client.FailoverFixture.NGINX;
import static dev.regmirror.core.client.FailoverFixture.STATION_MANIFEST_PATH;
import static dev.regmirror.core.client.UpstreamFixture.failure;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.regmirror.core.error.RegistryErrorCode;
import dev.regmirror.core.error.UpstreamErrorException;
import dev.regmirror.core.error.UpstreamUnavailableException;
import dev.regmirror.core.upstream.Endpoint;
import java.net.ConnectException;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** What a client sees when no endpoint of the upstream could answer. */
class FailoverExhaustedTest {

    private static final String ATTEMPT = "pull manifest latest of library/nginx";

    private final FailoverFixture fixture = new FailoverFixture();

    @AfterEach
    void close() {
        fixture.close();
    }

    private String registryAttempt() {
        return ATTEMPT + " from docker.io (http://localhost:" + fixture.registry.port() + ")";
    }

    @Test
    void messageNamesTheUpstreamHowManyEndpointsFailedAndTheLastCause() throws Exception {
        Endpoint refusing = FailoverFixture.refusing(fixture.mirrorEndpoint().settings());
        fixture.registry.stubFor(get(MANIFEST_PATH).willReturn(aResponse().withStatus(503)));

        UpstreamErrorException e = failure(fixture.client(refusing, fixture.registryEndpoint())
                .getManifest(NGINX, LATEST), UpstreamErrorException.class);

        assertEquals(ATTEMPT + " from docker.io: all 2 endpoints failed; last: " + registryAttempt()
                + ": upstream answered 503", e.getMessage());
        assertEquals(RegistryErrorCode.UPSTREAM_ERROR, e.code());
        assertEquals(503, e.upstreamStatus());
        assertEquals("docker.io", e.upstream());
    }

    @Test
    void lastEndpointUnreachableIsUnavailableWithItsCause() throws Exception {
        Endpoint refusing = FailoverFixture.refusing(fixture.mirrorEndpoint().settings());
        fixture.registry.stubFor(get(MANIFEST_PATH).willReturn(aResponse().withStatus(502)));

        UpstreamUnavailableException e = failure(fixture.client(fixture.registryEndpoint(), refusing)
                .getManifest(NGINX, LATEST), UpstreamUnavailableException.class);

        assertEquals(ATTEMPT + " from docker.io: all 2 endpoints failed; last: " + ATTEMPT + " from docker.io ("
                + refusing.settings().url() + "): connection refused", e.getMessage());
        assertEquals("docker.io", e.upstream());
        assertInstanceOf(ConnectException.class, e.getCause());
    }

    @Test
    void rateLimitOfTheLastEndpointKeepsItsRetryAfter() throws Exception {
        fixture.registry.stubFor(get(MANIFEST_PATH).willReturn(aResponse().withStatus(500)));
        fixture.mirror.stubFor(get(MANIFEST_PATH).willReturn(aResponse().withStatus(429)
                .withHeader("Retry-After", "60")));

        UpstreamErrorException e = failure(fixture.client(fixture.registryEndpoint(), fixture.mirrorEndpoint())
                .getManifest(NGINX, LATEST), UpstreamErrorException.class);

        assertEquals(RegistryErrorCode.TOOMANYREQUESTS, e.code());
        assertEquals(Map.of("Retry-After", "60"), e.headers());
        assertTrue(e.getMessage().startsWith(ATTEMPT + " from docker.io: all 2 endpoints failed; last: "),
                e.getMessage());
    }

    @Test
    void singleEndpointsFailureIsPassedOnUnchanged() throws Exception {
        fixture.registry.stubFor(get(MANIFEST_PATH).willReturn(aResponse().withStatus(503)));

        UpstreamErrorException e = failure(fixture.client(fixture.registryEndpoint()).getManifest(NGINX, LATEST),
                UpstreamErrorException.class);

        assertEquals(registryAttempt() + ": upstream answered 503", e.getMessage());
    }

    @Test
    void syncStationLackingTheImageDoesNotTurnAnOutageIntoNotFound() throws Exception {
        fixture.registry.stubFor(get(MANIFEST_PATH).willReturn(aResponse().withStatus(503)));
        fixture.station.stubFor(get(STATION_MANIFEST_PATH).willReturn(aResponse().withStatus(404)));

        UpstreamErrorException e = failure(fixture.client(fixture.registryEndpoint(), fixture.stationEndpoint())
                .getManifest(NGINX, LATEST), UpstreamErrorException.class);

        assertEquals(RegistryErrorCode.UPSTREAM_ERROR, e.code());
        assertEquals(ATTEMPT + " from docker.io: all 2 endpoints failed; last: " + registryAttempt()
                + ": upstream answered 503", e.getMessage());
    }

    @Test
    void syncStationLackingTheImageWhileTheRegistryIsSkippedIsUnavailable() throws Exception {
        fixture.registry.stubFor(get(MANIFEST_PATH).willReturn(aResponse().withStatus(503)));
        fixture.station.stubFor(get(STATION_MANIFEST_PATH).willReturn(aResponse().withStatus(404)));
        FailoverRegistryClient client = fixture.client(fixture.registryEndpoint(), fixture.stationEndpoint());
        failure(client.getManifest(NGINX, LATEST), UpstreamErrorException.class);

        UpstreamUnavailableException e = failure(client.getManifest(NGINX, LATEST), UpstreamUnavailableException.class);

        assertTrue(e.getMessage().startsWith(ATTEMPT + " from docker.io: all 2 endpoints failed (1 skipped after a "
                + "recent failure); last: " + ATTEMPT.replace("library/nginx", "ddn-k8s/docker.io/library/nginx")
                + " from docker.io (http://localhost:" + fixture.station.port() + "): upstream answered 404"),
                e.getMessage());
    }

    @Test
    void notFoundOnEveryEndpointIsNotFound() throws Exception {
        fixture.station.stubFor(get(STATION_MANIFEST_PATH).willReturn(aResponse().withStatus(404)));
        fixture.registry.stubFor(get(MANIFEST_PATH).willReturn(aResponse().withStatus(404)));

        UpstreamErrorException e = failure(fixture.client(fixture.stationEndpoint(), fixture.registryEndpoint())
                .getManifest(NGINX, LATEST), UpstreamErrorException.class);

        assertEquals(RegistryErrorCode.MANIFEST_UNKNOWN, e.code());
        assertEquals(registryAttempt() + ": upstream answered 404", e.getMessage());
    }

    @Test
    void notFoundOnEveryPartialEndpointIsNotFoundNamingTheUpstream() throws Exception {
        fixture.station.stubFor(get(STATION_MANIFEST_PATH).willReturn(aResponse().withStatus(404)));
        FailoverRegistryClient client = fixture.client(fixture.stationEndpoint(), fixture.stationEndpoint());

        UpstreamErrorException e = failure(client.getManifest(NGINX, LATEST), UpstreamErrorException.class);

        assertEquals(RegistryErrorCode.MANIFEST_UNKNOWN, e.code());
        assertTrue(e.isNotFound());
        assertTrue(e.getMessage().startsWith(ATTEMPT + " from docker.io: all 2 endpoints failed; last: "),
                e.getMessage());
    }
}
