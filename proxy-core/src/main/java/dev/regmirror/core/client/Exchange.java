package dev.regmirror.core.client;

import dev.regmirror.core.auth.token.Scope;
import dev.regmirror.core.client.auth.BearerToken;
import dev.regmirror.core.client.auth.Challenge;
import dev.regmirror.core.client.auth.Origin;
import dev.regmirror.core.client.auth.TokenCache;
import dev.regmirror.core.error.Printable;
import dev.regmirror.core.upstream.EndpointSettings;
import io.netty.buffer.ByteBuf;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Flow;

/**
 * Sends a {@link Fetch} to the upstream over its {@link NettyWire}: answers a 401 once with a bearer token
 * (cached per scope and used up front next time) or basic credentials, and follows up to five
 * redirects by hand, sending Authorization only to the upstream's own origin.
 */
final class Exchange {

    static final int MAX_REDIRECTS = 5;
    private static final Set<Integer> REDIRECTS = Set.of(301, 302, 303, 307, 308);

    private final EndpointSettings settings;
    private final NettyWire wire;
    private final TokenCache tokens;
    private final TokenFetcher tokenFetcher;
    private final Failures failures;
    private volatile boolean basicAccepted;

    Exchange(EndpointSettings settings, NettyWire wire, TokenCache tokens, TokenFetcher tokenFetcher,
             Failures failures) {
        this.settings = settings;
        this.wire = wire;
        this.tokens = tokens;
        this.tokenFetcher = tokenFetcher;
        this.failures = failures;
    }

    /** What an attempt authorizes with: nothing, a bearer token, or basic credentials. */
    private record Auth(Optional<String> header, Optional<BearerToken> token) {

        static final Auth NONE = new Auth(Optional.empty(), Optional.empty());

        static Auth bearer(BearerToken token) {
            return new Auth(Optional.of(token.header()), Optional.of(token));
        }

        boolean isBasic() {
            return header.isPresent() && token.isEmpty();
        }
    }

    /** The final response; fails with a ProxyException or a raw I/O failure for the caller to map. */
    CompletableFuture<UpstreamResponse<Flow.Publisher<ByteBuf>>> send(Fetch fetch) {
        Scope scope = Scope.pull(fetch.name());
        Optional<BearerToken> cached = tokens.get(settings.registry(), scope);
        Auth first = cached.map(Auth::bearer).orElse(basicAccepted ? basicAuth() : Auth.NONE);
        return attempt(fetch, scope, first, false);
    }

    private CompletableFuture<UpstreamResponse<Flow.Publisher<ByteBuf>>> attempt(Fetch fetch, Scope scope, Auth auth, boolean retried) {
        return follow(fetch, fetch.uri(settings.url()), auth, 0).thenCompose(response -> {
            if (response.status() != 401 || retried || !Origin.same(response.uri(), settings.url())) {
                return CompletableFuture.completedFuture(response);
            }
            Optional<Challenge> challenge = Challenge.select(response.headers().allValues("WWW-Authenticate"));
            if (challenge.isPresent() && challenge.get().isBearer()) {
                auth.token().ifPresent(refused -> tokens.invalidate(settings.registry(), scope, refused));
                // the token request after the 401's body, so that it may take the 401's connection
                return wire.discard(response.body())
                        .thenCompose(free -> tokenFetcher.fetch(challenge.get(), scope, fetch.what()))
                        .thenCompose(token -> {
                            tokens.put(settings.registry(), scope, token);
                            return attempt(fetch, scope, Auth.bearer(token), true);
                        });
            }
            if (challenge.isPresent() && challenge.get().isBasic() && settings.credentials().isPresent()
                    && !auth.isBasic()) {
                return wire.discard(response.body())
                        .thenCompose(free -> attempt(fetch, scope, basicAuth(), true))
                        .thenApply(retriedResponse -> {
                            basicAccepted = retriedResponse.status() != 401;
                            return retriedResponse;
                        });
            }
            return CompletableFuture.completedFuture(response);
        });
    }

    /** Lets go of a body nobody will read, as its wire does. */
    CompletableFuture<Void> discard(Flow.Publisher<ByteBuf> body) {
        return wire.discard(body);
    }

    private Auth basicAuth() {
        return settings.credentials().map(c -> new Auth(Optional.of(TokenFetcher.basic(c)), Optional.<BearerToken>empty()))
                .orElse(Auth.NONE);
    }

    private CompletableFuture<UpstreamResponse<Flow.Publisher<ByteBuf>>> follow(Fetch fetch, URI uri, Auth auth, int hops) {
        Optional<String> authorization = Origin.same(uri, settings.url()) ? auth.header() : Optional.empty();
        return wire.send(fetch, uri, authorization).thenCompose(response -> {
            if (!REDIRECTS.contains(response.status())) {
                return CompletableFuture.completedFuture(response);
            }
            // the next hop after this one's body, so that it may take this one's connection
            CompletableFuture<Void> discarded = wire.discard(response.body());
            if (hops >= MAX_REDIRECTS) {
                throw failures.protocol(fetch.what(), "more than " + MAX_REDIRECTS + " redirects", response.status());
            }
            URI next = location(fetch, response);
            return discarded.thenCompose(free -> follow(fetch, next, auth, hops + 1));
        });
    }

    private URI location(Fetch fetch, UpstreamResponse<Flow.Publisher<ByteBuf>> response) {
        String location = response.headers().firstValue("Location").orElse("");
        try {
            URI target = response.uri().resolve(new URI(location.trim()));
            String scheme = target.getScheme() == null ? "" : target.getScheme().toLowerCase(Locale.ROOT);
            if (!location.isBlank() && (scheme.equals("http") || scheme.equals("https")) && target.getHost() != null) {
                return target;
            }
        } catch (URISyntaxException | IllegalArgumentException e) {
            // reported below
        }
        throw failures.protocol(fetch.what(), "redirect " + response.status() + " to an unusable Location \""
                + Printable.of(location) + "\"", response.status());
    }
}
