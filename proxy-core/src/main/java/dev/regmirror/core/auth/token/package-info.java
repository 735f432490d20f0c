/**
 * The registry token authentication of the distribution spec, as regmirror serves it to its own
 * clients: scopes, the token request, and signing and checking the short-lived JWTs its token
 * endpoint hands out. The same {@link dev.regmirror.core.auth.token.Scope} is what regmirror asks
 * upstream token realms for.
 */
package dev.regmirror.core.auth.token;
