package dev.regmirror.core.client;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.head;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static dev.regmirror.core.client.FailoverFixture.LATEST;
import static dev.regmirror.core.client.FailoverFixture.MANIFEST_PATH;
import static dev.regmirror.core.client.FailoverFixture.NGINX;
import static dev.regmirror.core.client.Payloads.MANIFEST;
import static dev.regmirror.core.client.UpstreamFixture.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.regmirror.core.manifest.MediaTypes;
import dev.regmirror.core.upstream.Endpoint;
import dev.regmirror.core.testing.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** What {@link FailoverRegistryClient#endpoints()} and {@link FailoverRegistryClient#pullQuota()} report. */
class FailoverStatusTest {

    private final FailoverFixture fixture = new FailoverFixture();
    private final MutableClock clock = new MutableClock(Instant.parse("2026-12-03T10:00:00Z"));

    @AfterEach
    void close() {
        fixture.close();
    }

    @Test
    void aFailedEndpointIsSkippedUntilItsWindowEndsAndKeepsItsLastError() throws Exception {
        Endpoint dead = FailoverFixture.refusing(fixture.registryEndpoint().settings());
        fixture.mirror.stubFor(get(MANIFEST_PATH).willReturn(aResponse().withBody(MANIFEST)));
        FailoverRegistryClient client = fixture.created(FailoverFixture.upstream(dead, fixture.mirrorEndpoint()), clock);
        String deadUrl = "http://127.0.0.1:" + dead.settings().url().getPort();
        assertEquals(List.of(new EndpointStatus(deadUrl, Optional.empty(), Optional.empty(), Optional.empty()),
                new EndpointStatus("http://127.0.0.1:" + fixture.mirror.port(), Optional.empty(), Optional.empty(),
                        Optional.empty())), client.endpoints());

        await(client.getManifest(NGINX, LATEST));
        EndpointStatus down = client.endpoints().get(0);
        assertEquals(Optional.of(clock.instant().plus(FailoverFixture.SKIP)), down.skippedUntil());
        assertEquals(Optional.of(clock.instant()), down.lastErrorAt());
        assertTrue(down.lastError().orElseThrow().contains(deadUrl), down.toString());
        assertTrue(client.endpoints().get(1).up());

        clock.advance(FailoverFixture.SKIP.plus(Duration.ofSeconds(1)));
        EndpointStatus after = client.endpoints().get(0);
        assertTrue(after.up(), "the window is over");
        assertEquals(down.lastError(), after.lastError(), "the last error stays");
    }

    @Test
    void thePullQuotaIsTheLastOneAManifestHeadReported() throws Exception {
        fixture.registry.stubFor(head(urlEqualTo(MANIFEST_PATH)).willReturn(aResponse()
                .withHeader("Content-Type", MediaTypes.DOCKER_MANIFEST).withHeader("ratelimit-remaining", "76;w=21600")));
        FailoverRegistryClient client = fixture.created(FailoverFixture.upstream(fixture.registryEndpoint()), clock);
        assertEquals(Optional.empty(), client.pullQuota());
        await(client.headManifest(NGINX, LATEST));
        assertEquals(Optional.of(new FailoverRegistryClient.PullQuota(76, clock.instant())), client.pullQuota());
    }
}
