package dev.regmirror.core.client;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.anyRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static dev.regmirror.core.client.FailoverFixture.LATEST;
import static dev.regmirror.core.client.FailoverFixture.MANIFEST_PATH;
import static dev.regmirror.core.client.FailoverFixture.NGINX;
import static dev.regmirror.core.client.Payloads.MANIFEST;
import static dev.regmirror.core.client.UpstreamFixture.await;
import static dev.regmirror.core.client.UpstreamFixture.failure;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder;
import dev.regmirror.core.error.ProxyException;
import dev.regmirror.core.error.UpstreamErrorException;
import dev.regmirror.core.testing.MutableClock;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** How long a failed endpoint is left alone, what ends that, and what is logged. */
class FailoverSkipWindowTest {

    private final FailoverFixture fixture = new FailoverFixture();
    private final LogCapture logs = new LogCapture();
    private final Logger failoverLog = (Logger) LoggerFactory.getLogger(FailoverRegistryClient.class);

    @BeforeEach
    void logEverything() {
        failoverLog.setLevel(Level.DEBUG);
    }

    @AfterEach
    void close() {
        failoverLog.setLevel(null);
        logs.close();
        fixture.close();
    }

    private List<String> outages() {
        return logs.linesContaining("of docker.io failed (");
    }

    private static ResponseDefinitionBuilder manifest() {
        return aResponse().withBody(MANIFEST);
    }

    private FailoverRegistryClient registryThenMirror() {
        return fixture.client(fixture.registryEndpoint(), fixture.mirrorEndpoint());
    }

    private void registryAsked(int times) {
        fixture.registry.verify(times, getRequestedFor(urlEqualTo(MANIFEST_PATH)));
    }

    private String registryUrl() {
        return "http://localhost:" + fixture.registry.port();
    }

    @Test
    void failedEndpointIsNotContactedWithinItsWindowAndIsAskedAgainAfterIt() throws Exception {
        fixture.registry.stubFor(get(MANIFEST_PATH).willReturn(aResponse().withStatus(503)));
        fixture.mirror.stubFor(get(MANIFEST_PATH).willReturn(manifest()));
        FailoverRegistryClient client = registryThenMirror();

        await(client.getManifest(NGINX, LATEST));
        fixture.advance(Duration.ofSeconds(29));
        await(client.getManifest(NGINX, LATEST));
        registryAsked(1);

        fixture.advance(Duration.ofSeconds(1));
        await(client.getManifest(NGINX, LATEST));
        registryAsked(2);
        fixture.mirror.verify(3, getRequestedFor(urlEqualTo(MANIFEST_PATH)));
    }

    @Test
    void windowIsLoggedOnceAndTheRecoveryToo() throws Exception {
        fixture.registry.stubFor(get(MANIFEST_PATH).willReturn(aResponse().withStatus(503)));
        fixture.mirror.stubFor(get(MANIFEST_PATH).willReturn(manifest()));
        FailoverRegistryClient client = registryThenMirror();

        await(client.getManifest(NGINX, LATEST));
        fixture.advance(Duration.ofSeconds(31));
        await(client.getManifest(NGINX, LATEST));
        fixture.registry.stubFor(get(MANIFEST_PATH).willReturn(manifest()));
        fixture.advance(Duration.ofSeconds(31));
        await(client.getManifest(NGINX, LATEST));

        registryAsked(3);
        assertEquals(List.of("endpoint " + registryUrl() + " of docker.io failed (pull manifest latest of library/nginx"
                + " from docker.io (" + registryUrl() + "): upstream answered 503); skipping it for 30s"),
                outages());
        assertEquals(1, logs.linesContaining("failed again").size());
        assertEquals(List.of("endpoint " + registryUrl() + " of docker.io answers again"),
                logs.linesContaining("answers again"));
    }

    @Test
    void whenEveryEndpointIsInItsWindowTheFirstIsAskedAnywayAndAlone() throws Exception {
        fixture.registry.stubFor(get(MANIFEST_PATH).willReturn(aResponse().withStatus(503)));
        fixture.mirror.stubFor(get(MANIFEST_PATH).willReturn(aResponse().withStatus(500)));
        FailoverRegistryClient client = registryThenMirror();
        failure(client.getManifest(NGINX, LATEST), UpstreamErrorException.class);
        fixture.registry.stubFor(get(MANIFEST_PATH).willReturn(manifest()));

        await(client.getManifest(NGINX, LATEST));

        registryAsked(2);
        fixture.mirror.verify(1, anyRequestedFor(anyUrl()));
    }

    @Test
    void singleEndpointIsAskedWithinItsWindow() throws Exception {
        fixture.registry.stubFor(get(MANIFEST_PATH).willReturn(aResponse().withStatus(503)));
        FailoverRegistryClient client = fixture.client(fixture.registryEndpoint());
        failure(client.getManifest(NGINX, LATEST), UpstreamErrorException.class);
        fixture.registry.stubFor(get(MANIFEST_PATH).willReturn(manifest()));

        await(client.getManifest(NGINX, LATEST));

        registryAsked(2);
    }

    @Test
    void answerEndsTheWindowSoTheNextFailureIsANewOutage() throws Exception {
        fixture.registry.stubFor(get(MANIFEST_PATH).willReturn(aResponse().withStatus(503)));
        fixture.mirror.stubFor(get(MANIFEST_PATH).willReturn(aResponse().withStatus(503)));
        FailoverRegistryClient client = registryThenMirror();
        failure(client.getManifest(NGINX, LATEST), UpstreamErrorException.class);
        fixture.registry.stubFor(get(MANIFEST_PATH).willReturn(aResponse().withStatus(404)));
        failure(client.getManifest(NGINX, LATEST), UpstreamErrorException.class);
        fixture.registry.stubFor(get(MANIFEST_PATH).willReturn(aResponse().withStatus(503)));

        failure(client.getManifest(NGINX, LATEST), UpstreamErrorException.class);

        registryAsked(3);
        fixture.mirror.verify(1, getRequestedFor(urlEqualTo(MANIFEST_PATH)));
        assertEquals(2, logs.linesContaining("endpoint " + registryUrl() + " of docker.io failed (").size());
        assertEquals(1, logs.linesContaining("answers again").size());
        assertEquals(0, logs.linesContaining("failed again").size());
    }

    @Test
    void clockGoingBackDoesNotStretchTheWindow() throws Exception {
        fixture.registry.stubFor(get(MANIFEST_PATH).willReturn(aResponse().withStatus(503)));
        fixture.mirror.stubFor(get(MANIFEST_PATH).willReturn(manifest()));
        FailoverRegistryClient client = registryThenMirror();
        await(client.getManifest(NGINX, LATEST));

        fixture.advance(Duration.ofHours(-1));
        await(client.getManifest(NGINX, LATEST));

        registryAsked(2);
    }

    @Test
    void factoryMeasuresTheWindowOnTheGivenClock() throws Exception {
        fixture.registry.stubFor(get(MANIFEST_PATH).willReturn(aResponse().withStatus(429)));
        fixture.mirror.stubFor(get(MANIFEST_PATH).willReturn(manifest()));
        MutableClock clock = new MutableClock();
        FailoverRegistryClient client = fixture.created(FailoverFixture.upstream(fixture.registryEndpoint(),
                fixture.mirrorEndpoint()), clock);

        await(client.getManifest(NGINX, LATEST));
        await(client.getManifest(NGINX, LATEST));
        registryAsked(1);
        clock.advance(Duration.ofSeconds(30));
        await(client.getManifest(NGINX, LATEST));

        registryAsked(2);
    }

    @Test
    void failureThatIsTheAnswerStartsNoWindow() throws Exception {
        fixture.registry.stubFor(get(MANIFEST_PATH).willReturn(aResponse().withStatus(403)));
        FailoverRegistryClient client = registryThenMirror();

        ProxyException first = failure(client.getManifest(NGINX, LATEST), UpstreamErrorException.class);
        failure(client.getManifest(NGINX, LATEST), UpstreamErrorException.class);

        assertEquals(403, ((UpstreamErrorException) first).upstreamStatus());
        registryAsked(2);
        fixture.mirror.verify(0, anyRequestedFor(anyUrl()));
        assertEquals(List.of(), outages());
    }
}
