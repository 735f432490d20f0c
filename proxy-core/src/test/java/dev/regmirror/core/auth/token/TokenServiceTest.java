package dev.regmirror.core.auth.token;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.regmirror.core.auth.AccessDecision;
import dev.regmirror.core.auth.AccessPolicy;
import dev.regmirror.core.auth.AccessRule;
import dev.regmirror.core.auth.Account;
import dev.regmirror.core.auth.Action;
import dev.regmirror.core.auth.Caller;
import dev.regmirror.core.auth.ImagePattern;
import dev.regmirror.core.auth.Principal;
import dev.regmirror.core.client.auth.Challenge;
import dev.regmirror.core.reference.RepositoryName;
import dev.regmirror.core.testing.MutableClock;
import dev.regmirror.core.upstream.Endpoint;
import dev.regmirror.core.upstream.EndpointSettings;
import dev.regmirror.core.upstream.Route;
import dev.regmirror.core.upstream.UpstreamRouter;
import dev.regmirror.core.upstream.UpstreamSettings;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Tokens issued and checked: round trips, expiry on a moved clock, and forgeries of every kind. */
class TokenServiceTest {

    private static final Route ALPINE = route("docker.io/library/alpine");
    private static final Route BUSYBOX = route("docker.io/library/busybox");
    private static final Route TOOL = route("ghcr.io/myorg/tool");
    private static final Account ALICE = new Account("alice", false);
    private static final Account MALLORY = new Account("mallory", false);

    private final MutableClock clock = new MutableClock(Instant.parse("2024-05-01T10:00:00.750Z"));
    private final AtomicLong nanos = new AtomicLong();
    private final SigningKey key = SigningKey.generate();
    private final UpstreamRouter router = new UpstreamRouter(List.of(
            upstream("docker.io", List.of("registry-1.docker.io"), List.of(), "library"),
            upstream("ghcr.io", List.of(), List.of("ghcr.mirror.lan"), "")), "docker.io");
    private final AccessPolicy policy = new AccessPolicy(List.of(
            new AccessRule(List.of(new ImagePattern("ghcr.io/myorg/**")), Set.of(Action.PULL),
                    Optional.of(List.of(Principal.parse("alice"))), List.of()),
            new AccessRule(List.of(new ImagePattern("**")), Set.of(Action.PULL), Optional.of(List.of(Principal.ANONYMOUS)),
                    List.of(Principal.parse("mallory")))), Set.of());
    private final TokenService tokens = service(TokenSettings.defaults(), key);

    private static Route route(String image) {
        int slash = image.indexOf('/');
        return new Route(image.substring(0, slash), new RepositoryName(image.substring(slash + 1)));
    }

    private static UpstreamSettings upstream(String registry, List<String> aliases, List<String> hosts, String prefix) {
        return new UpstreamSettings(registry, aliases, hosts, prefix, List.of(Endpoint.of(EndpointSettings.anonymous(
                registry, URI.create("https://" + registry), Duration.ofSeconds(1), Duration.ofSeconds(1)))),
                Duration.ofSeconds(30));
    }

    private TokenService service(TokenSettings settings, SigningKey signingKey) {
        return new TokenService(settings, signingKey, policy, router, clock, nanos::get);
    }

    private static TokenRequest request(String... scopes) {
        return new TokenRequest("regmirror", List.of(scopes).stream().map(s -> Scope.parse(s).orElseThrow()).toList(),
                Optional.empty());
    }

    private IssuedToken issue(Caller caller, String... scopes) {
        return assertInstanceOf(TokenGrant.Issued.class, tokens.issue(caller, request(scopes), Optional.empty())).token();
    }

    private TokenCheck.Valid valid(String token) {
        return assertInstanceOf(TokenCheck.Valid.class, tokens.verify(token));
    }

    private String invalid(TokenService service, String token) {
        return assertInstanceOf(TokenCheck.Invalid.class, service.verify(token)).reason();
    }

    private static Scope scope(String value) {
        return Scope.parse(value).orElseThrow();
    }

    @Test
    void roundTripGrantsTheAllowedScopesUnderTheirRoute() {
        IssuedToken issued = issue(ALICE, "repository:library/alpine:pull", "repository:ghcr.io/myorg/tool:pull");
        assertEquals(List.of(scope("repository:docker.io/library/alpine:pull"), scope("repository:ghcr.io/myorg/tool:pull")),
                issued.access());
        TokenCheck.Valid valid = valid(issued.token());
        assertEquals("alice", valid.subject());
        assertEquals(issued.access(), valid.access());
        assertTrue(valid.allows(ALPINE, Action.PULL));
        assertTrue(valid.allows(TOOL, Action.PULL));
        assertFalse(valid.allows(BUSYBOX, Action.PULL), "a token for one repository does not cover another");
        assertFalse(valid.allows(ALPINE, Action.PUSH));
        assertFalse(valid.allows(route("ghcr.io/library/alpine"), Action.PULL), "the same name on another registry");
    }

    @Test
    void aPushScopeOfAHostedRepositoryIsGrantedToItsPusherInTheChallengesForm() {
        UpstreamRouter hostedRouter = new UpstreamRouter(List.of(upstream("docker.io", List.of(), List.of(), "library")),
                "docker.io", Map.of(), new dev.regmirror.core.config.HostedSettings("local", List.of("lan"), List.of(),
                Duration.ofHours(1), false, false, 4 << 20));
        AccessPolicy pushers = new AccessPolicy(List.of(
                new AccessRule(List.of(new ImagePattern("local/lan/**")), Set.of(Action.PULL, Action.PUSH),
                        Optional.of(List.of(Principal.parse("alice"))), List.of())), Set.of());
        TokenService hosted = new TokenService(TokenSettings.defaults(), key, pushers, hostedRouter, clock, nanos::get);
        Route app = Route.hosted("local", new RepositoryName("lan/app"));
        for (String written : List.of("local/lan/app", "lan/app")) {
            IssuedToken issued = assertInstanceOf(TokenGrant.Issued.class, hosted.issue(ALICE,
                    request("repository:" + written + ":pull,push"), Optional.empty())).token();
            assertEquals(List.of(scope("repository:local/lan/app:pull,push")), issued.access(), written);
            assertTrue(valid(issued.token()).allows(app, Action.PUSH));
        }
        IssuedToken anonymous = assertInstanceOf(TokenGrant.Issued.class, hosted.issue(Caller.ANONYMOUS,
                request("repository:local/lan/app:pull,push"), Optional.empty())).token();
        assertEquals(List.of(), anonymous.access(), "pushes are for accounts");
        assertEquals("Bearer realm=\"https://mirror.lan/token\",service=\"regmirror\",scope=\"repository:local/lan/app:pull,push\"",
                hosted.challenge(URI.create("https://mirror.lan/token"), Map.of(app, Set.of(Action.PUSH, Action.PULL))));
    }

    @Test
    void theJwtCarriesTheSpecsHeaderAndClaims() throws Exception {
        IssuedToken issued = issue(ALICE, "repository:library/alpine:pull");
        SignedJWT jwt = SignedJWT.parse(issued.token());
        assertEquals(JWSAlgorithm.ES256, jwt.getHeader().getAlgorithm());
        assertEquals(key.keyId(), jwt.getHeader().getKeyID());
        JWTClaimsSet claims = jwt.getJWTClaimsSet();
        assertEquals("regmirror", claims.getIssuer());
        assertEquals("alice", claims.getSubject());
        assertEquals(List.of("regmirror"), claims.getAudience());
        Instant issuedAt = Instant.parse("2024-05-01T10:00:00Z");
        assertEquals(issuedAt, claims.getIssueTime().toInstant());
        assertEquals(issuedAt, claims.getNotBeforeTime().toInstant());
        assertEquals(issuedAt.plus(Duration.ofMinutes(5)), claims.getExpirationTime().toInstant());
        assertEquals(List.of(Map.of("type", "repository", "name", "docker.io/library/alpine", "actions", List.of("pull"))),
                claims.getClaim("access"));
        assertNotEquals(claims.getJWTID(), SignedJWT.parse(issue(ALICE).token()).getJWTClaimsSet().getJWTID());
    }

    @Test
    void theResponseBodyHasBothTokenFieldsExpiryAndIssueTime() throws Exception {
        IssuedToken issued = issue(Caller.ANONYMOUS, "repository:library/alpine:pull");
        JsonNode json = new ObjectMapper().readTree(issued.json(new ObjectMapper()));
        assertEquals(issued.token(), json.get("token").asText());
        assertEquals(issued.token(), json.get("access_token").asText());
        assertEquals(300, json.get("expires_in").asLong());
        assertEquals("2024-05-01T10:00:00Z", json.get("issued_at").asText());
        assertFalse(issued.toString().contains(issued.token()), issued.toString());
        assertEquals("", valid(issued.token()).subject(), "anonymous is the empty subject");
    }

    @Test
    void onlyWhatTheRulesAllowIsGranted() {
        assertEquals(List.of(), issue(Caller.ANONYMOUS, "repository:ghcr.io/myorg/tool:pull").access());
        assertEquals(List.of(), issue(MALLORY, "repository:library/alpine:pull").access());
        assertEquals(List.of(), issue(ALICE, "repository:library/alpine:push,delete", "registry:catalog:*",
                "repository:unknown.example/x:pull", "repository:Bad:pull").access(),
                "no pushes, no catalog, no unconfigured registry, no invalid name");
        assertEquals(List.of(scope("repository:docker.io/library/alpine:pull")),
                issue(ALICE, "repository:library/alpine:pull,push").access());
    }

    @Test
    void namesThatRouteToTheSameImageAreGrantedOnce() {
        assertEquals(List.of(scope("repository:docker.io/library/alpine:pull")), issue(Caller.ANONYMOUS,
                "repository:alpine:pull", "repository:library/alpine:pull", "repository:docker.io/library/alpine:pull",
                "repository:registry-1.docker.io/library/alpine:pull").access());
    }

    @Test
    void aNameIsAlsoRoutedWithTheHostOfTheTokenRequest() {
        TokenGrant grant = tokens.issue(ALICE, request("repository:myorg/tool:pull"), Optional.of("ghcr.mirror.lan"));
        TokenCheck.Valid valid = valid(assertInstanceOf(TokenGrant.Issued.class, grant).token().token());
        assertTrue(valid.allows(TOOL, Action.PULL));
        assertTrue(valid.allows(route("docker.io/myorg/tool"), Action.PULL), "and without it, each allowed on its own");
    }

    @Test
    void anotherServiceOrAnotherAccountIsRefused() {
        assertEquals(new TokenGrant.Refused("this token endpoint serves \"regmirror\", not \"registry.docker.io\""),
                tokens.issue(ALICE, new TokenRequest("registry.docker.io", List.of(), Optional.empty()), Optional.empty()));
        assertEquals(new TokenGrant.Refused("account \"bob\" is not the signed-in account alice"),
                tokens.issue(ALICE, new TokenRequest("regmirror", List.of(), Optional.of("bob")), Optional.empty()));
        assertInstanceOf(TokenGrant.Issued.class, tokens.issue(ALICE,
                new TokenRequest("regmirror", List.of(), Optional.of("alice")), Optional.empty()));
    }

    @Test
    void expiryOnAMovedClockWithASmallLeeway() {
        String token = issue(ALICE, "repository:library/alpine:pull").token();
        TokenService fresh = service(TokenSettings.defaults(), key);
        clock.advance(Duration.ofMinutes(5)); // 10:05:00.750, expiry 10:05:00
        valid(token);
        clock.advance(Jwts.LEEWAY.minusSeconds(1));
        valid(token);
        clock.advance(Duration.ofSeconds(1));
        assertEquals("expired at 2024-05-01T10:05:00Z", invalid(tokens, token), "remembered, and expired all the same");
        assertEquals("expired at 2024-05-01T10:05:00Z", invalid(fresh, token), "checked afresh");
    }

    @Test
    void aTokenFromAClockAheadIsNotValidBeforeItsTime() {
        String token = issue(ALICE, "repository:library/alpine:pull").token(); // nbf 10:00:00
        MutableClock behind = new MutableClock(Instant.parse("2024-05-01T09:59:49Z"));
        TokenService late = new TokenService(TokenSettings.defaults(), key, policy, router, behind, nanos::get);
        assertEquals("not valid before 2024-05-01T10:00:00Z", invalid(late, token));
        behind.advance(Duration.ofSeconds(1));
        assertInstanceOf(TokenCheck.Valid.class, late.verify(token));
    }

    @Test
    void aValidTokenIsRememberedUntilItExpires() {
        String token = issue(ALICE, "repository:library/alpine:pull").token();
        TokenCheck.Valid first = valid(token);
        assertEquals(Instant.parse("2024-05-01T10:05:00Z"), first.expiresAt());
        assertTrue(first == tokens.verify(token), "the second check is the remembered one");
        nanos.addAndGet(Duration.ofMinutes(5).plus(Jwts.LEEWAY).toNanos());
        TokenCheck.Valid again = valid(token);
        assertFalse(first == again, "past its lifetime the entry is gone, and the token checked afresh");
        assertEquals(first, again);
    }

    @Test
    void anotherAudienceOrIssuerIsInvalid() {
        String token = issue(ALICE, "repository:library/alpine:pull").token();
        TokenService other = service(new TokenSettings("other", "regmirror", Duration.ofMinutes(5), Optional.empty()), key);
        assertEquals("for another audience", invalid(other, token));
        TokenService otherIssuer = service(new TokenSettings("regmirror", "someone", Duration.ofMinutes(5), Optional.empty()),
                key);
        assertEquals("issued by another issuer", invalid(otherIssuer, token));
    }

    @Test
    void aTamperedPayloadIsInvalid() {
        String token = issue(Caller.ANONYMOUS, "repository:library/alpine:pull").token();
        String[] parts = token.split("\\.");
        String payload = new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8)
                .replace("docker.io/library/alpine", "docker.io/library/busybox");
        String tampered = parts[0] + "." + Base64URL.encode(payload) + "." + parts[2];
        assertEquals("bad signature", invalid(tokens, tampered));
        String escalated = parts[0] + "." + Base64URL.encode(new String(Base64.getUrlDecoder().decode(parts[1]),
                StandardCharsets.UTF_8).replace("\"sub\":\"\"", "\"sub\":\"alice\"")) + "." + parts[2];
        assertEquals("bad signature", invalid(tokens, escalated));
    }

    @Test
    void aTokenSignedWithAnotherKeyIsInvalidEvenUnderOurKeyId() throws Exception {
        String token = issue(ALICE, "repository:library/alpine:pull").token();
        assertEquals("unknown key id", invalid(service(TokenSettings.defaults(), SigningKey.generate()), token));

        SigningKey forger = SigningKey.generate();
        SignedJWT resigned = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID(key.keyId()).build(),
                SignedJWT.parse(token).getJWTClaimsSet());
        resigned.sign(new ECDSASigner(forger.jwk()));
        assertEquals("bad signature", invalid(tokens, resigned.serialize()));
    }

    @Test
    void algNoneAndHmacAreInvalid() throws Exception {
        JWTClaimsSet claims = SignedJWT.parse(issue(ALICE, "repository:library/alpine:pull").token()).getJWTClaimsSet();
        String none = Base64URL.encode("{\"alg\":\"none\",\"kid\":\"" + key.keyId() + "\"}") + "."
                + Base64URL.encode(claims.toString()) + ".";
        assertEquals("malformed token", invalid(tokens, none));
        String noneSigned = Base64URL.encode("{\"alg\":\"none\",\"kid\":\"" + key.keyId() + "\"}") + "."
                + Base64URL.encode(claims.toString()) + "." + Base64URL.encode("x");
        assertEquals("malformed token", invalid(tokens, noneSigned));

        SignedJWT hmac = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.HS256).keyID(key.keyId()).build(), claims);
        hmac.sign(new MACSigner(key.jwk().toECPublicKey().getEncoded())); // the public key as the HMAC secret
        assertEquals("algorithm HS256 is not ES256", invalid(tokens, hmac.serialize()));
    }

    @Test
    void truncatedTokensAreInvalid() {
        String token = issue(ALICE, "repository:library/alpine:pull").token();
        for (int length = 0; length < token.length(); length++) {
            assertInstanceOf(TokenCheck.Invalid.class, tokens.verify(token.substring(0, length)), "length " + length);
        }
    }

    @Test
    void randomInputIsInvalidNeverAnException() {
        SplittableRandom random = new SplittableRandom(42);
        String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ {}\":,\u0000\u00e9";
        String valid = issue(ALICE, "repository:library/alpine:pull").token();
        for (int i = 0; i < 2000; i++) {
            StringBuilder junk = new StringBuilder();
            int length = random.nextInt(300);
            for (int j = 0; j < length; j++) {
                junk.append(alphabet.charAt(random.nextInt(alphabet.length())));
            }
            assertInstanceOf(TokenCheck.Invalid.class, tokens.verify(junk.toString()));
            byte[] bytes = new byte[random.nextInt(200)];
            random.nextBytes(bytes);
            String segments = Base64URL.encode(bytes) + "." + Base64URL.encode(bytes) + "." + Base64URL.encode(bytes);
            assertInstanceOf(TokenCheck.Invalid.class, tokens.verify(segments));
            if (i % 10 != 0) {
                continue; // a mutated token that still parses costs an ECDSA check: fewer of those
            }
            char[] mutated = valid.toCharArray();
            mutated[random.nextInt(mutated.length)] = alphabet.charAt(random.nextInt(alphabet.length()));
            TokenCheck check = tokens.verify(new String(mutated));
            assertTrue(check instanceof TokenCheck.Invalid || new String(mutated).equals(valid)
                    || check instanceof TokenCheck.Valid v && v.subject().equals("alice"), "no crash, no other subject");
        }
        assertInstanceOf(TokenCheck.Invalid.class, tokens.verify("a".repeat(Jwts.MAX_LENGTH + 1)));
        assertInstanceOf(TokenCheck.Invalid.class, tokens.verify(""));
        assertInstanceOf(TokenCheck.Invalid.class, tokens.verify("..."));
    }

    @Test
    void authorizeDecidesARequestThatPresentsAToken() {
        String alpineOnly = issue(ALICE, "repository:library/alpine:pull").token();
        assertEquals(AccessDecision.ALLOWED, tokens.authorize(alpineOnly, ALPINE, Action.PULL));
        assertEquals(new AccessDecision.NeedsAccount("the token does not grant pull of docker.io/library/busybox"),
                tokens.authorize(alpineOnly, BUSYBOX, Action.PULL), "allowed but not in the token: fetch a new one");
        assertEquals(new AccessDecision.Denied("pull of docker.io/library/alpine is denied to account mallory"),
                tokens.authorize(issue(MALLORY, "repository:library/alpine:pull").token(), ALPINE, Action.PULL));
        assertEquals(new AccessDecision.NeedsAccount("pull of ghcr.io/myorg/tool needs a signed-in account"),
                tokens.authorize(issue(Caller.ANONYMOUS, "repository:ghcr.io/myorg/tool:pull").token(), TOOL, Action.PULL));
        assertEquals(new AccessDecision.NeedsAccount("invalid token: malformed token"),
                tokens.authorize("nonsense", ALPINE, Action.PULL));
    }

    @Test
    void theChallengeSendsTheClientToTheTokenEndpointForTheRoute() {
        String header = tokens.challenge(URI.create("https://mirror.lan:5000/token"), TOOL, Action.PULL);
        assertEquals("Bearer realm=\"https://mirror.lan:5000/token\",service=\"regmirror\","
                + "scope=\"repository:ghcr.io/myorg/tool:pull\"", header);
        Challenge parsed = Challenge.parseAll(header).get(0);
        assertEquals(Optional.of("repository:ghcr.io/myorg/tool:pull"), parsed.param("scope"));
        assertEquals(Optional.of("https://mirror.lan:5000/token"), parsed.param("realm"));
    }
}
