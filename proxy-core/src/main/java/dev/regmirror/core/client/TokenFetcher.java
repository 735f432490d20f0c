package dev.regmirror.core.client;

import dev.regmirror.core.auth.token.Scope;
import dev.regmirror.core.client.auth.BearerToken;
import dev.regmirror.core.client.auth.Challenge;
import dev.regmirror.core.client.auth.RealmPolicy;
import dev.regmirror.core.upstream.Credentials;
import dev.regmirror.core.upstream.EndpointSettings;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
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
    private final HttpClient http;
    private final ScheduledExecutorService scheduler;
    private final RealmPolicy policy;
    private final Failures failures;
    private final UpstreamErrors errors;
    private final Set<String> warnedRealms = ConcurrentHashMap.newKeySet();

    TokenFetcher(EndpointSettings settings, HttpClient http, ScheduledExecutorService scheduler,
                 Failures failures, UpstreamErrors errors) {
        this.settings = settings;
        this.http = http;
        this.scheduler = scheduler;
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
        HttpRequest.Builder request = HttpRequest.newBuilder(tokenUri(realm.get(), challenge, scope))
                .timeout(settings.readTimeout()).header("User-Agent", HttpRegistryClient.USER_AGENT).GET();
        if ("http".equalsIgnoreCase(realm.get().getScheme())) {
            request.version(HttpClient.Version.HTTP_1_1);
        }
        Optional<Credentials> credentials = settings.credentials();
        if (credentials.isPresent() && policy.allowsCredentials(realm.get())) {
            request.header("Authorization", basic(credentials.get()));
        } else if (credentials.isPresent() && warnedRealms.add(realm.get().toString())) {
            log.warn("Credentials for {} withheld from token realm {}: credentials go only to {}; fetching an "
                    + "anonymous token", settings.registry(), realm.get(), settings.tokenRealm()
                    .map(URI::toString).orElse("a realm on " + settings.url().getHost()));
        }
        return failures.mapping(tokenWhat, () -> http.sendAsync(request.build(), HttpResponse.BodyHandlers.ofPublisher())
                .thenCompose(response -> {
                    var body = GuardedPublisher.watching(response.body(), tokenWhat, settings, scheduler, failures);
                    if (response.statusCode() != 200) {
                        BodyCollector.discard(body);
                        throw errors.fromRealm(tokenWhat, response.statusCode(), response.headers());
                    }
                    return BodyCollector.collect(body, UpstreamErrors.MAX_BODY, settings.readTimeout()).thenApply(bytes ->
                            BearerToken.fromJson(bytes).orElseThrow(() ->
                                    failures.protocol(tokenWhat, "the token realm answered without a token", 200)));
                }));
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
