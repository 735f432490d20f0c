package dev.regmirror.core.client;

import dev.regmirror.core.auth.token.Scope;
import dev.regmirror.core.client.auth.BearerToken;
import dev.regmirror.core.client.auth.Challenge;
import dev.regmirror.core.client.auth.RealmPolicy;
import dev.regmirror.core.upstream.Credentials;
import dev.regmirror.core.upstream.EndpointSettings;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fetches a bearer token from the realm a challenge names, as in the
 * <a href="https://distribution.github.io/distribution/spec/auth/token/#requesting-a-token">token
 * spec</a>, sending the upstream's credentials only where the {@link RealmPolicy} allows.
 */
final class TokenFetcher {

    private static final Logger log = LoggerFactory.getLogger(TokenFetcher.class);

    private final EndpointSettings settings;
    private final NettyWire wire;
    private final RealmPolicy policy;
    private final Failures failures;
    private final UpstreamErrors errors;
    private final Set<String> warnedRealms = ConcurrentHashMap.newKeySet();

    /** @param wire the endpoint's wire, which reaches realms on other origins too, through the same proxy */
    TokenFetcher(EndpointSettings settings, NettyWire wire, Failures failures, UpstreamErrors errors) {
        this.settings = settings;
        this.wire = wire;
        this.policy = new RealmPolicy(settings);
        this.failures = failures;
        this.errors = errors;
    }

    /** A token for {@code scope} (or the challenge's own scope), to {@code what} the client was doing. */
    CompletableFuture<BearerToken> fetch(Challenge challenge, Scope scope, String what) {
        Optional<URI> realm = challenge.param("realm").flatMap(TokenFetcher::httpUrl);
        if (realm.isEmpty()) {
            return CompletableFuture.failedFuture(failures.protocol(what, "the 401 names no usable token realm", 401));
        }
        String tokenWhat = "fetch token from " + realm.get() + " to " + what;
        URI uri = tokenUri(realm.get(), challenge, scope);
        Optional<String> authorization = authorizationFor(realm.get());
        return failures.mapping(tokenWhat, () -> wire.send("GET", Optional.empty(), tokenWhat, uri, authorization)
                .thenCompose(response -> {
                    if (response.status() != 200) {
                        wire.discard(response.body());
                        throw errors.fromRealm(tokenWhat, response.status(), response.headers());
                    }
                    return wire.collect(response.body(), UpstreamErrors.MAX_BODY).thenApply(bytes ->
                            BearerToken.fromJson(bytes).orElseThrow(() ->
                                    failures.protocol(tokenWhat, "the token realm answered without a token", 200)));
                }));
    }

    /**
     * The endpoint's basic credentials where the policy lets them go to {@code realm}; else none, with
     * a warning once a realm.
     */
    private Optional<String> authorizationFor(URI realm) {
        Optional<Credentials> credentials = settings.credentials();
        if (credentials.isPresent() && policy.allowsCredentials(realm)) {
            return Optional.of(basic(credentials.get()));
        }
        if (credentials.isPresent() && warnedRealms.add(realm.toString())) {
            log.warn("Credentials for {} withheld from token realm {}: credentials go only to {}; fetching an "
                    + "anonymous token", settings.registry(), realm, settings.tokenRealm()
                    .map(URI::toString).orElse("a realm on " + settings.url().getHost()));
        }
        return Optional.empty();
    }

    /** The Authorization value for basic credentials. */
    static String basic(Credentials credentials) {
        String pair = credentials.username() + ":" + credentials.password();
        return "Basic " + Base64.getEncoder().encodeToString(pair.getBytes(StandardCharsets.UTF_8));
    }

    private static URI tokenUri(URI realm, Challenge challenge, Scope fallback) {
        StringBuilder query = new StringBuilder(realm.getRawQuery() == null ? "" : realm.getRawQuery());
        challenge.param("service").ifPresent(service -> append(query, "service", service));
        String scopes = challenge.param("scope").orElse(fallback.toString());
        for (String scope : scopes.trim().split("\\s+")) {
            append(query, "scope", scope);
        }
        String base = realm.toString();
        int cut = base.indexOf('?');
        return URI.create((cut < 0 ? base : base.substring(0, cut)) + "?" + query);
    }

    private static void append(StringBuilder query, String name, String value) {
        if (query.length() > 0) {
            query.append('&');
        }
        query.append(name).append('=').append(URLEncoder.encode(value, StandardCharsets.UTF_8));
    }

    private static Optional<URI> httpUrl(String value) {
        try {
            URI uri = new URI(value);
            boolean http = "http".equalsIgnoreCase(uri.getScheme()) || "https".equalsIgnoreCase(uri.getScheme());
            return http && uri.getHost() != null && uri.getRawFragment() == null ? Optional.of(uri) : Optional.empty();
        } catch (java.net.URISyntaxException e) {
            return Optional.empty();
        }
    }
}
