package dev.regmirror.core.auth.token;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
import dev.regmirror.core.auth.AccessDecision;
import dev.regmirror.core.auth.AccessPolicy;
import dev.regmirror.core.auth.Account;
import dev.regmirror.core.auth.Action;
import dev.regmirror.core.auth.BearerCheck;
import dev.regmirror.core.auth.Caller;
import dev.regmirror.core.error.Printable;
import dev.regmirror.core.error.ProxyException;
import dev.regmirror.core.upstream.Route;
import dev.regmirror.core.upstream.RouteRequest;
import dev.regmirror.core.upstream.UpstreamRouter;
import java.net.URI;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * regmirror's side of the <a href="https://distribution.github.io/distribution/spec/auth/token/">token
 * authentication spec</a>: issues short-lived signed tokens granting what the access rules allow of
 * the scopes asked for, and checks the tokens clients then present.
 */
public final class TokenService implements BearerCheck {

    /** The most valid tokens remembered at once. */
    static final long REMEMBERED_MAX = 10_000;

    private final TokenSettings settings;
    private final Jwts jwts;
    private final AccessPolicy policy;
    private final UpstreamRouter router;
    private final Clock clock;
    private final Cache<String, TokenCheck.Valid> remembered;

    /**
     * @param clock  the time tokens are issued at and checked against
     * @param ticker the clock of the remembered valid tokens
     */
    public TokenService(TokenSettings settings, SigningKey key, AccessPolicy policy, UpstreamRouter router, Clock clock,
                        Ticker ticker) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.jwts = new Jwts(settings, Objects.requireNonNull(key, "key"));
        this.policy = Objects.requireNonNull(policy, "policy");
        this.router = Objects.requireNonNull(router, "router");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.remembered = Caffeine.newBuilder()
                .ticker(Objects.requireNonNull(ticker, "ticker"))
                .maximumSize(REMEMBERED_MAX)
                .expireAfterWrite(settings.lifetime().plus(Jwts.LEEWAY))
                .build();
    }

    /**
     * A token for the caller (anonymous, or an account whose credentials the server verified)
     * granting, of the repository scopes asked for, the actions the access rules allow. Each name
     * is routed as the registry API routes it, with and without the Host of the token request, and
     * granted under the route it reaches ({@code alpine} as {@code docker.io/library/alpine}).
     * What is not allowed, not a repository or names no configured upstream is left out: the client
     * learns of it when the registry API refuses the request.
     *
     * Signing costs an ECDSA operation (around a millisecond, more on a busy core): call it on a
     * worker thread, not an event loop.
     *
     * @param host the Host header of the token request, without its port, if any
     */
    public TokenGrant issue(Caller caller, TokenRequest request, Optional<String> host) {
        if (!request.service().equals(settings.service())) {
            return new TokenGrant.Refused("this token endpoint serves \"" + settings.service() + "\", not \""
                    + Printable.of(request.service()) + "\"");
        }
        if (request.account().isPresent() && caller instanceof Account account
                && !request.account().get().equals(account.name())) {
            return new TokenGrant.Refused("account \"" + Printable.of(request.account().get())
                    + "\" is not the signed-in account " + Printable.of(account.name()));
        }
        Map<String, Set<String>> granted = new LinkedHashMap<>();
        for (Scope scope : request.scopes()) {
            if (!scope.isRepository()) {
                continue;
            }
            for (Route route : routes(scope.name(), host)) {
                for (String wire : scope.actions()) {
                    Optional<Action> action = Action.fromWire(wire);
                    if (action.isPresent()
                            && policy.decide(caller, route, action.get()) instanceof AccessDecision.Allowed) {
                        granted.computeIfAbsent(route.toString(), name -> new LinkedHashSet<>()).add(wire);
                    }
                }
            }
        }
        List<Scope> access = new ArrayList<>();
        granted.forEach((name, actions) -> access.add(new Scope(Scope.REPOSITORY, name, List.copyOf(actions))));
        Instant now = clock.instant().truncatedTo(ChronoUnit.SECONDS);
        return new TokenGrant.Issued(new IssuedToken(jwts.sign(caller.subject(), access, now), settings.lifetime(), now,
                access));
    }

    /**
     * The routes a scope's name can stand for: routed with the token request's Host, and without;
     * and in the canonical form challenges write ({@code local/lan/app}: registry, then name), whose
     * first component is taken as {@code ?ns=}, so that a hosted registry whose name does not look
     * like a host name is found too.
     */
    private Set<Route> routes(String name, Optional<String> host) {
        Set<Route> routes = new LinkedHashSet<>();
        List<RouteRequest> requests = new ArrayList<>(List.of(new RouteRequest(name, Optional.empty(), host),
                RouteRequest.of(name)));
        int slash = name.indexOf('/');
        if (slash > 0) {
            requests.add(new RouteRequest(name.substring(slash + 1), Optional.of(name.substring(0, slash)),
                    Optional.empty()));
        }
        for (RouteRequest request : requests) {
            try {
                routes.add(router.route(request));
            } catch (ProxyException e) { // an invalid name or an unconfigured registry: nothing to grant
            }
        }
        return routes;
    }

    /**
     * Checks a bearer token: regmirror's signature and key, its issuer and audience, its lifetime
     * (with a small leeway). A first check costs an ECDSA verification: call it on a worker thread.
     * Clients present the same token with every request until it expires, so a token found valid
     * is remembered until then and checked again in microseconds.
     */
    public TokenCheck verify(String token) {
        Objects.requireNonNull(token, "token");
        Instant now = clock.instant();
        TokenCheck.Valid known = remembered.getIfPresent(token);
        if (known != null) {
            return now.isAfter(known.expiresAt().plus(Jwts.LEEWAY))
                    ? new TokenCheck.Invalid("expired at " + known.expiresAt()) : known;
        }
        TokenCheck check = jwts.check(token, now);
        if (check instanceof TokenCheck.Valid valid) {
            remembered.put(token, valid);
        }
        return check;
    }

    /**
     * Decides a request that presented a bearer token: allowed when the token grants the action
     * on the route. Otherwise the access rules decide for the token's subject: denied stays
     * denied (403, naming image and account); when they would allow it, or an account could be
     * allowed, the client is sent for a new token (401 with {@link #challenge}). An invalid token
     * also needs a new one. Checks the token as {@link #verify} does: on a worker thread.
     */
    @Override
    public AccessDecision authorize(String token, Route route, Action action) {
        TokenCheck check = verify(token);
        if (check instanceof TokenCheck.Invalid invalid) {
            return new AccessDecision.NeedsAccount("invalid token: " + invalid.reason());
        }
        TokenCheck.Valid valid = (TokenCheck.Valid) check;
        if (valid.allows(route, action)) {
            return AccessDecision.ALLOWED;
        }
        Caller caller = valid.subject().isEmpty() ? Caller.ANONYMOUS : new Account(valid.subject(), false);
        AccessDecision decision = policy.decide(caller, route, action);
        return decision instanceof AccessDecision.Allowed
                ? new AccessDecision.NeedsAccount("the token does not grant " + action.wire() + " of " + route)
                : decision;
    }

    /**
     * The {@code WWW-Authenticate} value that sends a client to the token endpoint for one image:
     * {@code Bearer realm="https://mirror.lan/token",service="regmirror",scope="repository:docker.io/library/alpine:pull"}.
     *
     * @param realm the token endpoint's URL as clients reach it
     */
    public String challenge(URI realm, Route route, Action action) {
        return challenge(realm, java.util.Map.of(route, java.util.Set.of(action)));
    }

    /**
     * The {@code WWW-Authenticate} value for a request that needs actions on several images (a
     * push: {@code pull,push} on one, {@code pull} on the repository a blob is mounted from),
     * their scopes separated by spaces.
     */
    public String challenge(URI realm, java.util.Map<Route, java.util.Set<Action>> needs) {
        String url = realm.toASCIIString();
        if (url.indexOf('"') >= 0 || url.indexOf('\\') >= 0) {
            throw new IllegalArgumentException("a realm URL holds no quotes or backslashes");
        }
        String scopes = needs.entrySet().stream()
                .map(need -> new Scope(Scope.REPOSITORY, need.getKey().toString(), need.getValue().stream()
                        .sorted().map(Action::wire).toList()).toString())
                .sorted().collect(java.util.stream.Collectors.joining(" "));
        return "Bearer realm=\"" + url + "\",service=\"" + settings.service() + "\",scope=\"" + scopes + "\"";
    }

    /** The service tokens are issued for, as challenges name it. */
    public String service() {
        return settings.service();
    }
}
