package dev.regmirror.core.auth;

import dev.regmirror.core.upstream.Route;

/** Decides a request that presented a bearer token; the token service implements it. */
@FunctionalInterface
public interface BearerCheck {

    /** Allowed when the token grants the action on the route; otherwise what the client must do. */
    AccessDecision authorize(String token, Route route, Action action);

    /** For a mirror without a token endpoint: every bearer token is refused. */
    BearerCheck NONE = (token, route, action) ->
            new AccessDecision.NeedsAccount("this mirror issues no tokens: sign in with a user name and password");
}
