package dev.regmirror.core.client;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.absent;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static dev.regmirror.core.client.Payloads.ALPINE;
import static dev.regmirror.core.client.Payloads.LATEST;
import static dev.regmirror.core.client.Payloads.MANIFEST;
import static dev.regmirror.core.client.Payloads.MANIFEST_DIGEST;
import static dev.regmirror.core.client.Payloads.MANIFEST_PATH;
import static dev.regmirror.core.client.UpstreamFixture.CREDENTIALS;
import static dev.regmirror.core.client.UpstreamFixture.await;
import static dev.regmirror.core.client.UpstreamFixture.failure;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.client.MappingBuilder;
import com.github.tomakehurst.wiremock.stubbing.Scenario;
import dev.regmirror.core.error.RegistryErrorCode;
import dev.regmirror.core.error.UpstreamErrorException;
import dev.regmirror.core.error.UpstreamUnavailableException;
import dev.regmirror.core.manifest.ManifestBytes;
import dev.regmirror.core.reference.RepositoryName;
import dev.regmirror.core.testing.MutableClock;
import java.net.URI;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The token flow and basic auth against WireMock upstreams and realms. */
class HttpRegistryClientAuthTest {

    private final UpstreamFixture fixture = new UpstreamFixture();
    private final WireMockServer upstream = fixture.upstream;
    private final WireMockServer otherHost = fixture.otherHost;

    @AfterEach
    void close() {
        fixture.close();
    }

    private void challengeWithoutToken(String realmBase) {
        upstream.stubFor(manifest().withHeader("Authorization", absent())
                .willReturn(aResponse().withStatus(401).withHeader("WWW-Authenticate", Payloads.bearerChallenge(realmBase))
                        .withHeader("Content-Type", "application/json")
                        .withBody("{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"authentication required\"}]}")));
    }

    private void acceptToken(String token) {
        upstream.stubFor(manifest().withHeader("Authorization", equalTo("Bearer " + token)).willReturn(manifestOk()));
    }

    private static MappingBuilder manifest() {
        return get(MANIFEST_PATH);
    }

    private static com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder manifestOk() {
        return aResponse().withStatus(200).withBody(MANIFEST)
                .withHeader("Content-Type", "application/vnd.docker.distribution.manifest.v2+json")
                .withHeader("Docker-Content-Digest", MANIFEST_DIGEST.toString());
    }

    @Test
    void anonymousTokenIsFetchedOnceAndReusedForTheNextRequest() throws Exception {
        challengeWithoutToken(fixture.url().toString());
        acceptToken("t1");
        upstream.stubFor(get(urlPathEqualTo("/token")).willReturn(okJson(Payloads.tokenJson("t1", 300))));
        HttpRegistryClient client = fixture.client();

        ManifestBytes first = await(client.getManifest(ALPINE, LATEST));
        ManifestBytes second = await(client.getManifest(ALPINE, LATEST));

        assertEquals(MANIFEST_DIGEST, first.digest());
        assertEquals(MANIFEST_DIGEST, second.digest());
        upstream.verify(1, getRequestedFor(urlPathEqualTo("/token"))
                .withQueryParam("service", equalTo("registry.docker.io"))
                .withQueryParam("scope", equalTo("repository:library/alpine:pull"))
                .withHeader("Authorization", absent()));
        upstream.verify(1, getRequestedFor(urlPathEqualTo(MANIFEST_PATH)).withHeader("Authorization", absent()));
        upstream.verify(2, getRequestedFor(urlPathEqualTo(MANIFEST_PATH)).withHeader("Authorization", equalTo("Bearer t1")));
    }

    @Test
    void challengeWithoutScopeAsksForThePullScope() throws Exception {
        upstream.stubFor(manifest().withHeader("Authorization", absent()).willReturn(aResponse().withStatus(401)
                .withHeader("WWW-Authenticate", "bearer realm=\"" + fixture.url() + "/token\", service=\"hub\"")));
        acceptToken("t1");
        upstream.stubFor(get(urlPathEqualTo("/token")).willReturn(okJson("{\"access_token\":\"t1\"}")));

        await(fixture.client().getManifest(ALPINE, LATEST));

        upstream.verify(1, getRequestedFor(urlPathEqualTo("/token"))
                .withQueryParam("scope", equalTo("repository:library/alpine:pull")));
    }

    @Test
    void tokenIsFetchedAgainOnceItExpired() throws Exception {
        challengeWithoutToken(fixture.url().toString());
        acceptToken("t1");
        upstream.stubFor(get(urlPathEqualTo("/token")).willReturn(okJson(Payloads.tokenJson("t1", 60))));
        MutableClock clock = new MutableClock();
        HttpRegistryClient client = fixture.created(fixture.anonymous(), clock);

        await(client.getManifest(ALPINE, LATEST));
        clock.advance(Duration.ofSeconds(50));
        await(client.getManifest(ALPINE, LATEST));
        upstream.verify(1, getRequestedFor(urlPathEqualTo("/token")));

        clock.advance(Duration.ofSeconds(11));
        await(client.getManifest(ALPINE, LATEST));
        upstream.verify(2, getRequestedFor(urlPathEqualTo("/token")));
    }

    @Test
    void cachedTokenTheUpstreamRefusesIsReplacedOnce() throws Exception {
        challengeWithoutToken(fixture.url().toString());
        upstream.stubFor(get(urlPathEqualTo("/token")).inScenario("tokens").whenScenarioStateIs(Scenario.STARTED)
                .willReturn(okJson(Payloads.tokenJson("t1", 300))).willSetStateTo("second"));
        upstream.stubFor(get(urlPathEqualTo("/token")).inScenario("tokens").whenScenarioStateIs("second")
                .willReturn(okJson(Payloads.tokenJson("t2", 300))));
        upstream.stubFor(manifest().withHeader("Authorization", equalTo("Bearer t1")).inScenario("revocation")
                .whenScenarioStateIs(Scenario.STARTED).willReturn(manifestOk()).willSetStateTo("revoked"));
        upstream.stubFor(manifest().withHeader("Authorization", equalTo("Bearer t1")).inScenario("revocation")
                .whenScenarioStateIs("revoked").willReturn(aResponse().withStatus(401)
                        .withHeader("WWW-Authenticate", Payloads.bearerChallenge(fixture.url().toString()))));
        acceptToken("t2");
        HttpRegistryClient client = fixture.client();

        await(client.getManifest(ALPINE, LATEST));
        ManifestBytes afterRevocation = await(client.getManifest(ALPINE, LATEST));
        await(client.getManifest(ALPINE, LATEST));

        assertEquals(MANIFEST_DIGEST, afterRevocation.digest());
        upstream.verify(2, getRequestedFor(urlPathEqualTo("/token")));
        upstream.verify(2, getRequestedFor(urlPathEqualTo(MANIFEST_PATH)).withHeader("Authorization", equalTo("Bearer t1")));
        upstream.verify(2, getRequestedFor(urlPathEqualTo(MANIFEST_PATH)).withHeader("Authorization", equalTo("Bearer t2")));
    }

    @Test
    void refusedTokenIsDroppedEvenWhenNoFreshOneCanBeHad() throws Exception {
        challengeWithoutToken(fixture.url().toString());
        upstream.stubFor(get(urlPathEqualTo("/token")).inScenario("tokens").whenScenarioStateIs(Scenario.STARTED)
                .willReturn(okJson(Payloads.tokenJson("t1", 300))).willSetStateTo("realm down"));
        upstream.stubFor(get(urlPathEqualTo("/token")).inScenario("tokens").whenScenarioStateIs("realm down")
                .willReturn(aResponse().withStatus(503)));
        upstream.stubFor(manifest().withHeader("Authorization", equalTo("Bearer t1")).inScenario("revocation")
                .whenScenarioStateIs(Scenario.STARTED).willReturn(manifestOk()).willSetStateTo("revoked"));
        upstream.stubFor(manifest().withHeader("Authorization", equalTo("Bearer t1")).inScenario("revocation")
                .whenScenarioStateIs("revoked").willReturn(aResponse().withStatus(401)
                        .withHeader("WWW-Authenticate", Payloads.bearerChallenge(fixture.url().toString()))));
        HttpRegistryClient client = fixture.client();

        await(client.getManifest(ALPINE, LATEST));
        UpstreamErrorException realmDown = failure(client.getManifest(ALPINE, LATEST), UpstreamErrorException.class);
        failure(client.getManifest(ALPINE, LATEST), UpstreamErrorException.class);

        assertEquals(RegistryErrorCode.UPSTREAM_ERROR, realmDown.code());
        assertTrue(realmDown.getMessage().endsWith("token realm answered 503"), realmDown.getMessage());
        upstream.verify(2, getRequestedFor(urlPathEqualTo(MANIFEST_PATH)).withHeader("Authorization", equalTo("Bearer t1")));
        upstream.verify(2, getRequestedFor(urlPathEqualTo(MANIFEST_PATH)).withHeader("Authorization", absent()));
    }

    @Test
    void freshTokenTheUpstreamRefusesEndsInUnauthorizedWithoutLooping() throws Exception {
        upstream.stubFor(manifest().willReturn(aResponse().withStatus(401)
                .withHeader("WWW-Authenticate", Payloads.bearerChallenge(fixture.url().toString()))));
        upstream.stubFor(get(urlPathEqualTo("/token")).willReturn(okJson(Payloads.tokenJson("t1", 300))));

        UpstreamErrorException e = failure(fixture.client().getManifest(ALPINE, LATEST), UpstreamErrorException.class);

        assertEquals(RegistryErrorCode.UNAUTHORIZED, e.code());
        assertEquals(401, e.upstreamStatus());
        upstream.verify(1, getRequestedFor(urlPathEqualTo("/token")));
        upstream.verify(2, getRequestedFor(urlPathEqualTo(MANIFEST_PATH)));
    }

    @Test
    void credentialsGoToTheConfiguredRealmOnAnotherHost() throws Exception {
        URI realm = URI.create(fixture.otherUrl() + "/token");
        challengeWithoutToken(fixture.otherUrl().toString());
        acceptToken("t1");
        otherHost.stubFor(get(urlPathEqualTo("/token")).willReturn(okJson(Payloads.tokenJson("t1", 300))));
        var settings = fixture.settings(fixture.url(), Optional.of(CREDENTIALS), Optional.of(realm));

        await(fixture.client(settings).getManifest(ALPINE, LATEST));

        otherHost.verify(1, getRequestedFor(urlPathEqualTo("/token"))
                .withHeader("Authorization", equalTo(TokenFetcher.basic(CREDENTIALS)))
                .withQueryParam("scope", equalTo("repository:library/alpine:pull")));
    }

    @Test
    void credentialsAreWithheldFromARealmOnAnotherHostThatIsNotConfigured() throws Exception {
        challengeWithoutToken(fixture.otherUrl().toString());
        acceptToken("t1");
        otherHost.stubFor(get(urlPathEqualTo("/token")).willReturn(okJson(Payloads.tokenJson("t1", 300))));
        var settings = fixture.settings(fixture.url(), Optional.of(CREDENTIALS), Optional.empty());

        HttpRegistryClient client = fixture.client(settings);

        try (LogCapture logs = new LogCapture()) {
            await(client.getManifest(ALPINE, LATEST));
            fixture.advance(Duration.ofHours(1));
            await(client.getManifest(ALPINE, LATEST));

            otherHost.verify(2, getRequestedFor(urlPathEqualTo("/token")).withHeader("Authorization", absent()));
            assertEquals(1, logs.linesContaining("withheld from token realm " + fixture.otherUrl() + "/token").size(),
                    logs.lines().toString());
        }
    }

    @Test
    void withoutAConfiguredRealmCredentialsGoToARealmOnTheUpstreamsHost() throws Exception {
        challengeWithoutToken(fixture.url().toString());
        acceptToken("t1");
        upstream.stubFor(get(urlPathEqualTo("/token")).willReturn(okJson(Payloads.tokenJson("t1", 300))));
        var settings = fixture.settings(fixture.url(), Optional.of(CREDENTIALS), Optional.empty());

        await(fixture.client(settings).getManifest(ALPINE, LATEST));

        upstream.verify(1, getRequestedFor(urlPathEqualTo("/token"))
                .withHeader("Authorization", equalTo(TokenFetcher.basic(CREDENTIALS))));
    }

    @Test
    void basicChallengeIsAnsweredWithCredentialsAndThenSentUpFront() throws Exception {
        upstream.stubFor(manifest().withHeader("Authorization", absent())
                .willReturn(aResponse().withStatus(401).withHeader("WWW-Authenticate", "Basic realm=\"Registry Realm\"")));
        upstream.stubFor(manifest().withHeader("Authorization", equalTo(TokenFetcher.basic(CREDENTIALS)))
                .willReturn(manifestOk()));
        HttpRegistryClient client = fixture.client(fixture.settings(fixture.url(), Optional.of(CREDENTIALS), Optional.empty()));

        await(client.getManifest(ALPINE, LATEST));
        await(client.getManifest(ALPINE, LATEST));

        upstream.verify(1, getRequestedFor(urlPathEqualTo(MANIFEST_PATH)).withHeader("Authorization", absent()));
        upstream.verify(2, getRequestedFor(urlPathEqualTo(MANIFEST_PATH))
                .withHeader("Authorization", equalTo(TokenFetcher.basic(CREDENTIALS))));
    }

    @Test
    void basicChallengeWithoutCredentialsIsUnauthorized() throws Exception {
        upstream.stubFor(manifest().willReturn(aResponse().withStatus(401)
                .withHeader("WWW-Authenticate", "Basic realm=\"Registry Realm\"")));

        UpstreamErrorException e = failure(fixture.client().getManifest(ALPINE, LATEST), UpstreamErrorException.class);

        assertEquals(RegistryErrorCode.UNAUTHORIZED, e.code());
        upstream.verify(1, getRequestedFor(urlPathEqualTo(MANIFEST_PATH)));
    }

    @Test
    void neitherPasswordNorTokenAppearsInMessagesOrLogs() throws Exception {
        URI realm = URI.create(fixture.url() + "/token");
        var settings = fixture.settings(fixture.url(), Optional.of(CREDENTIALS), Optional.of(realm));
        challengeWithoutToken(fixture.url().toString());
        upstream.stubFor(get(urlPathEqualTo("/token")).withQueryParam("scope", equalTo("repository:library/alpine:pull"))
                .willReturn(aResponse().withStatus(401).withBody("{\"details\":\"incorrect username or password\"}")));
        upstream.stubFor(get(urlPathEqualTo("/token")).withQueryParam("scope", equalTo("repository:library/busybox:pull"))
                .willReturn(okJson(Payloads.tokenJson("secret-token-value", 300))));
        upstream.stubFor(get("/v2/library/busybox/manifests/latest").withHeader("Authorization", absent())
                .willReturn(aResponse().withStatus(401).withHeader("WWW-Authenticate", "Bearer realm=\"" + realm
                        + "\",service=\"registry.docker.io\",scope=\"repository:library/busybox:pull\"")));
        upstream.stubFor(get("/v2/library/busybox/manifests/latest").withHeader("Authorization", equalTo("Bearer secret-token-value"))
                .willReturn(aResponse().withStatus(503).withBody("upstream down")));
        HttpRegistryClient client = fixture.client(settings);

        try (LogCapture logs = new LogCapture()) {
            UpstreamErrorException refused = failure(client.getManifest(ALPINE, LATEST), UpstreamErrorException.class);
            UpstreamErrorException down = failure(client.getManifest(new RepositoryName("library/busybox"), LATEST),
                    UpstreamErrorException.class);

            assertEquals(RegistryErrorCode.UNAUTHORIZED, refused.code());
            assertTrue(refused.getMessage().contains("token realm answered 401"), refused.getMessage());
            assertEquals(RegistryErrorCode.UPSTREAM_ERROR, down.code());
            for (String secret : new String[] {CREDENTIALS.password(), TokenFetcher.basic(CREDENTIALS).substring(6),
                    "secret-token-value"}) {
                for (UpstreamErrorException t : new UpstreamErrorException[] {refused, down}) {
                    for (Throwable c = t; c != null; c = c.getCause()) {
                        assertFalse(String.valueOf(c.getMessage()).contains(secret), c.getMessage());
                    }
                    assertFalse(String.valueOf(t.detail()).contains(secret));
                }
                assertTrue(logs.linesContaining(secret).isEmpty(), logs.lines().toString());
            }
        }
    }

    @Test
    void unreachableTokenRealmIsUnavailableNamingRealmAndUpstream() throws Exception {
        int closedPort = UpstreamFixture.closedPort();
        challengeWithoutToken("http://127.0.0.1:" + closedPort);

        UpstreamUnavailableException e = failure(fixture.client().getManifest(ALPINE, LATEST),
                UpstreamUnavailableException.class);

        assertEquals("docker.io", e.upstream());
        assertTrue(e.getMessage().contains("fetch token from http://127.0.0.1:" + closedPort + "/token"), e.getMessage());
        assertTrue(e.getMessage().contains("docker.io (" + fixture.url() + ")"), e.getMessage());
        assertTrue(e.getMessage().endsWith("connection refused"), e.getMessage());
    }
}
