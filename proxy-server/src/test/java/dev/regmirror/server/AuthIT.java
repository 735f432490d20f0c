package dev.regmirror.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.benmanes.caffeine.cache.Ticker;
import dev.regmirror.core.auth.AccessPolicy;
import dev.regmirror.core.auth.Caller;
import dev.regmirror.core.auth.token.SigningKey;
import dev.regmirror.core.auth.token.TokenGrant;
import dev.regmirror.core.auth.token.TokenRequest;
import dev.regmirror.core.auth.token.TokenService;
import dev.regmirror.core.auth.token.TokenSettings;
import dev.regmirror.core.manifest.MediaTypes;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.testing.BuiltImage;
import dev.regmirror.core.testing.Closing;
import dev.regmirror.core.testing.RegistryProcess;
import dev.regmirror.core.testing.Skopeo;
import dev.regmirror.core.testing.TestCredentials;
import dev.regmirror.core.testing.TestImages;
import dev.regmirror.core.upstream.EndpointSettings;
import dev.regmirror.core.upstream.UpstreamRouter;
import dev.regmirror.core.upstream.UpstreamSettings;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Accounts, rules and the token flow against a real server whose docker.io is a real registry, as
 * skopeo and plain HTTP clients meet them: anonymous pulls where the rules allow them, a signed-in
 * account for a team's images, wrong passwords, tokens scoped to another repository, expired,
 * forged and malformed credentials (401 with a challenge, never a 500), denied accounts (403), and
 * no upstream contact for any refused request. The admin API takes an administrator's account.
 */
class AuthIT {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path work;

    private static RegistryProcess upstream;
    private static Skopeo skopeo;
    private static MirrorFixture mirror;
    private static BuiltImage app;
    private static BuiltImage secret;
    private static Path signingKey;
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @BeforeAll
    static void start() throws Exception {
        upstream = RegistryProcess.start();
        skopeo = new Skopeo();
        app = TestImages.singleArch(work.resolve("app"), "1.0", 2, 20_000, 81);
        secret = TestImages.singleArch(work.resolve("secret"), "1.0", 2, 20_000, 82);
        skopeo.copy(app.source(), "docker://" + upstream.hostPort() + "/library/app:1.0");
        skopeo.copy(secret.source(), "docker://" + upstream.hostPort() + "/team/secret:1.0");
        Path htpasswd = Files.writeString(work.resolve("htpasswd"), String.join("\n",
                TestCredentials.htpasswdLine("alice", "alice-pw"), TestCredentials.htpasswdLine("bob", "bob-pw"),
                TestCredentials.htpasswdLine("root", "root-pw"), ""));
        signingKey = writeSigningKey(work.resolve("token-key.pem"));
        Map<String, Object> settings = new HashMap<>();
        settings.put("regmirror.auth.htpasswd", htpasswd.toString());
        settings.put("regmirror.auth.admins", List.of("root"));
        settings.put("regmirror.auth.token.signing-key", signingKey.toString());
        settings.put("regmirror.auth.rules", List.of(
                Map.of("images", List.of("docker.io/team/**"), "allow", List.of("alice")),
                Map.of("images", List.of("docker.io/library/*"), "allow", List.of("anonymous"))));
        mirror = MirrorFixture.start(upstream.url(), work.resolve("cache"), settings);
    }

    private static Path writeSigningKey(Path file) throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"));
        String pem = "-----BEGIN PRIVATE KEY-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                        .encodeToString(generator.generateKeyPair().getPrivate().getEncoded())
                + "\n-----END PRIVATE KEY-----\n";
        return Files.writeString(file, pem);
    }

    @AfterAll
    static void stop() throws Exception {
        Closing.all(mirror, skopeo, upstream);
    }

    @BeforeEach
    void forgetEarlierRequests() {
        upstream.reset();
    }

    private static String viaMirror(String image) {
        return "docker://" + mirror.hostPort() + "/" + image;
    }

    private static HttpResponse<String> get(String path, String... headers) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(mirror.uri(path)).header("Accept", MediaTypes.ACCEPT_ALL_HEADER);
        if (headers.length > 0) {
            request.headers(headers);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** A token from the mirror's own endpoint, for these credentials (null: anonymous) and scope. */
    private static String token(String credentials, String scope) throws Exception {
        HttpResponse<String> answer = credentials == null
                ? get("/token?service=regmirror&scope=" + scope)
                : get("/token?service=regmirror&scope=" + scope, "Authorization", credentials);
        assertEquals(200, answer.statusCode(), answer.body());
        return JSON.readTree(answer.body()).path("token").asText();
    }

    private static void assertChallenged(HttpResponse<String> answer) throws Exception {
        assertEquals(401, answer.statusCode(), answer.body());
        assertEquals("UNAUTHORIZED", JSON.readTree(answer.body()).path("errors").path(0).path("code").asText());
        String challenge = answer.headers().firstValue("WWW-Authenticate").orElse("");
        assertTrue(challenge.startsWith("Bearer realm=\"http://" + mirror.hostPort() + "/token\",service=\"regmirror\""),
                challenge);
    }

    @Test
    void anonymousClientsPullWhatTheRulesGiveThemThroughTheTokenFlow() throws Exception {
        Path pulled = work.resolve("anonymous-app");
        skopeo.copyToDir(viaMirror("app:1.0"), pulled);
        assertEquals(app.digest(), Digest.sha256Of(Files.readAllBytes(pulled.resolve("manifest.json"))));

        IllegalStateException refused = assertThrows(IllegalStateException.class,
                () -> skopeo.copyToDir(viaMirror("team/secret:1.0"), work.resolve("anonymous-secret")));
        assertTrue(refused.getMessage().contains("authentication required")
                || refused.getMessage().contains("unauthorized"), refused.getMessage());
        assertEquals(0, upstream.count("GET", "/v2/team/.*"), "nothing fetched for a refused pull");
        assertEquals(0, upstream.count("HEAD", "/v2/team/.*"));
    }

    @Test
    void anAccountPullsItsTeamsImagesAndOtherAccountsAreDenied() throws Exception {
        Path pulled = work.resolve("alice-secret");
        skopeo.copy(viaMirror("team/secret:1.0"), "dir:" + pulled, "--src-creds", "alice:alice-pw");
        assertEquals(secret.digest(), Digest.sha256Of(Files.readAllBytes(pulled.resolve("manifest.json"))));
        for (var blob : secret.blobs()) {
            assertEquals(blob.digest(), Digest.sha256Of(Files.readAllBytes(pulled.resolve(blob.digest().hex()))));
        }
        upstream.reset();

        HttpResponse<String> bob = get("/v2/team/secret/manifests/1.0", "Authorization", TestCredentials.basic("bob", "bob-pw"));
        assertEquals(403, bob.statusCode(), bob.body());
        JsonNode denied = JSON.readTree(bob.body()).path("errors").path(0);
        assertEquals("DENIED", denied.path("code").asText());
        assertTrue(denied.path("message").asText().contains("bob"), denied.toString());

        IllegalStateException wrong = assertThrows(IllegalStateException.class, () -> skopeo.copy(
                viaMirror("team/secret:1.0"), "dir:" + work.resolve("wrong-password"), "--src-creds", "alice:nope"));
        assertTrue(wrong.getMessage().contains("401") || wrong.getMessage().toLowerCase().contains("unauthorized"),
                wrong.getMessage());
        assertEquals(0, upstream.requests().size(), "no upstream contact for refused requests: " + upstream.requests());
    }

    @Test
    void theTokenEndpointRefusesWrongPasswordsAndScopesTokensToTheirRepository() throws Exception {
        HttpResponse<String> wrong = get("/token?service=regmirror&scope=repository:team/secret:pull",
                "Authorization", TestCredentials.basic("alice", "wrong"));
        assertEquals(401, wrong.statusCode(), wrong.body());
        assertEquals("UNAUTHORIZED", JSON.readTree(wrong.body()).path("errors").path(0).path("code").asText());
        assertTrue(!wrong.body().contains("wrong\""), "the password is not echoed");

        String forApp = token(TestCredentials.basic("alice", "alice-pw"), "repository:library/app:pull");
        assertEquals(200, get("/v2/library/app/manifests/1.0", "Authorization", "Bearer " + forApp).statusCode());
        assertChallenged(get("/v2/team/secret/manifests/1.0", "Authorization", "Bearer " + forApp));

        String forSecret = token(TestCredentials.basic("alice", "alice-pw"), "repository:team/secret:pull");
        HttpResponse<String> granted = get("/v2/team/secret/manifests/1.0", "Authorization", "Bearer " + forSecret);
        assertEquals(200, granted.statusCode(), granted.body());
        assertEquals(secret.digest().toString(), granted.headers().firstValue("Docker-Content-Digest").orElseThrow());

        String anonymous = token(null, "repository:team/secret:pull");
        assertChallenged(get("/v2/team/secret/manifests/1.0", "Authorization", "Bearer " + anonymous));
    }

    @Test
    void expiredForgedAndMalformedCredentialsGetAChallengeNeverAServerError() throws Exception {
        TokenService past = new TokenService(new TokenSettings("regmirror", "regmirror", Duration.ofMinutes(5),
                Optional.of(signingKey)), SigningKey.read(signingKey), AccessPolicy.open(), router(),
                Clock.fixed(Instant.now().minus(Duration.ofHours(1)), ZoneOffset.UTC), Ticker.systemTicker());
        TokenGrant expired = past.issue(Caller.ANONYMOUS, ((TokenRequest.Parsed.Ok) TokenRequest.fromQuery(Map.of(
                "service", List.of("regmirror"), "scope", List.of("repository:library/app:pull")))).request(),
                Optional.empty());
        String expiredToken = ((TokenGrant.Issued) expired).token().token();
        assertChallenged(get("/v2/library/app/manifests/1.0", "Authorization", "Bearer " + expiredToken));

        Path otherKey = writeSigningKey(work.resolve("other-key.pem"));
        TokenService forger = new TokenService(TokenSettings.defaults(), SigningKey.read(otherKey), AccessPolicy.open(),
                router(), Clock.systemUTC(), Ticker.systemTicker());
        String forged = ((TokenGrant.Issued) forger.issue(Caller.ANONYMOUS, ((TokenRequest.Parsed.Ok) TokenRequest
                .fromQuery(Map.of("service", List.of("regmirror"), "scope", List.of("repository:team/secret:pull"))))
                .request(), Optional.empty())).token().token();
        assertChallenged(get("/v2/team/secret/manifests/1.0", "Authorization", "Bearer " + forged));

        for (String malformed : List.of("Bearer", "Bearer a.b", "Basic !!!", "Basic "
                + Base64.getEncoder().encodeToString("no-colon".getBytes(StandardCharsets.UTF_8)), "Digest x=1",
                "Basic", expiredToken)) {
            assertChallenged(get("/v2/team/secret/manifests/1.0", "Authorization", malformed));
        }
        assertChallenged(get("/v2/"));
        assertEquals(200, get("/v2/", "Authorization", TestCredentials.basic("bob", "bob-pw")).statusCode(), "docker login checks /v2/");
        assertChallenged(get("/v2/", "Authorization", TestCredentials.basic("bob", "not-bobs")));
        assertEquals(0, upstream.requests().size());
    }

    private static UpstreamRouter router() {
        return new UpstreamRouter(List.of(UpstreamSettings.single(EndpointSettings.anonymous("docker.io",
                URI.create("http://127.0.0.1:1"), Duration.ofSeconds(1), Duration.ofSeconds(1)), "library")),
                "docker.io");
    }

    @Test
    void theCatalogIsForAdministratorsAndTheAdminApiTakesTheirAccounts() throws Exception {
        assertChallenged(get("/v2/_catalog"));
        assertEquals(403, get("/v2/_catalog", "Authorization", TestCredentials.basic("alice", "alice-pw")).statusCode());
        assertEquals(200, get("/v2/_catalog", "Authorization", TestCredentials.basic("root", "root-pw")).statusCode());

        HttpResponse<String> usage = HTTP.send(HttpRequest.newBuilder(mirror.adminUri("/admin/usage"))
                .header("Authorization", TestCredentials.basic("root", "root-pw")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, usage.statusCode(), usage.body());
        HttpResponse<String> notAdmin = HTTP.send(HttpRequest.newBuilder(mirror.adminUri("/admin/usage"))
                .header("Authorization", TestCredentials.basic("alice", "alice-pw")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(403, notAdmin.statusCode(), notAdmin.body());
        HttpResponse<String> wrong = HTTP.send(HttpRequest.newBuilder(mirror.adminUri("/admin/usage"))
                .header("Authorization", TestCredentials.basic("root", "nope")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(401, wrong.statusCode(), wrong.body());
    }
}
