package dev.regmirror.core.auth.token;

import dev.regmirror.core.auth.Account;
import dev.regmirror.core.auth.BasicCredentials;
import dev.regmirror.core.error.Printable;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A request to regmirror's token endpoint, from the query of a
 * <a href="https://distribution.github.io/distribution/spec/auth/token/#requesting-a-token">GET</a>
 * or the form of an <a href="https://distribution.github.io/distribution/spec/auth/oauth/">OAuth2
 * POST</a> (password grant only).
 *
 * @param service the service the client asks a token for
 * @param scopes  the scopes asked for; none when the client only checks its credentials ({@code docker login})
 * @param account the account the client says it acts as, if it says
 */
public record TokenRequest(String service, List<Scope> scopes, Optional<String> account) {

    /** More scopes than any client asks for at once; past it the request is refused. */
    public static final int MAX_SCOPES = 32;

    public TokenRequest {
        Objects.requireNonNull(service, "service");
        scopes = List.copyOf(scopes);
        Objects.requireNonNull(account, "account");
    }

    /**
     * Reads a GET query, as decoded parameters: {@code service}, {@code scope} (repeatable, each
     * possibly several scopes separated by spaces), {@code account}; others are ignored. The
     * credentials come from the Authorization header.
     */
    public static Parsed fromQuery(Map<String, List<String>> query) {
        List<String> scopeParams = query.getOrDefault("scope", List.of());
        return read(query, scopeParams, Optional.empty());
    }

    /**
     * Reads an OAuth2 POST form, as decoded parameters: {@code grant_type=password} with
     * {@code username} and {@code password}, {@code service}, {@code scope} (space-separated).
     * Refresh tokens are not issued, so the {@code refresh_token} grant is refused.
     */
    public static Parsed fromForm(Map<String, List<String>> form) {
        Optional<String> grant = single(form, "grant_type");
        if (grant.isEmpty()) {
            return new Parsed.Invalid("grant_type is missing");
        }
        if (!grant.get().equals("password")) {
            return new Parsed.Invalid("grant_type \"" + Printable.of(grant.get()) + "\" is not supported: use password");
        }
        Optional<String> username = single(form, "username");
        Optional<String> password = single(form, "password");
        if (username.isEmpty() || password.isEmpty()) {
            return new Parsed.Invalid("the password grant needs username and password");
        }
        if (!Account.isValidName(username.get())) {
            return new Parsed.Invalid("invalid username \"" + Printable.of(username.get()) + "\"");
        }
        return read(form, form.getOrDefault("scope", List.of()),
                Optional.of(new BasicCredentials(username.get(), password.get())));
    }

    private static Parsed read(Map<String, List<String>> params, List<String> scopeParams,
                               Optional<BasicCredentials> credentials) {
        if (params.getOrDefault("service", List.of()).size() > 1) {
            return new Parsed.Invalid("service is given more than once");
        }
        Optional<String> service = single(params, "service");
        if (service.isEmpty()) {
            return new Parsed.Invalid("service is missing");
        }
        if (!TokenSettings.isValidName(service.get())) {
            return new Parsed.Invalid("invalid service \"" + Printable.of(service.get()) + "\"");
        }
        List<Scope> scopes = new ArrayList<>();
        for (String param : scopeParams) {
            for (String one : param.trim().split("[ \t]+")) {
                if (one.isEmpty()) {
                    continue;
                }
                Optional<Scope> scope = Scope.parse(one);
                if (scope.isEmpty()) {
                    return new Parsed.Invalid("invalid scope \"" + Printable.of(one) + "\": the form is "
                            + "repository:<name>:pull");
                }
                scopes.add(scope.get());
                if (scopes.size() > MAX_SCOPES) {
                    return new Parsed.Invalid("more than " + MAX_SCOPES + " scopes");
                }
            }
        }
        Optional<String> account = single(params, "account");
        if (account.isPresent() && !Account.isValidName(account.get())) {
            return new Parsed.Invalid("invalid account \"" + Printable.of(account.get()) + "\"");
        }
        return new Parsed.Ok(new TokenRequest(service.get(), scopes, account), credentials);
    }

    /** The first value of a parameter, if there is a non-empty one. */
    private static Optional<String> single(Map<String, List<String>> params, String name) {
        List<String> values = params.getOrDefault(name, List.of());
        return values.isEmpty() || values.get(0) == null || values.get(0).isEmpty()
                ? Optional.empty() : Optional.of(values.get(0));
    }

    /** A token request read, or why it cannot be. */
    public sealed interface Parsed {

        /**
         * A valid request.
         *
         * @param credentials those of an OAuth2 password grant; for a GET they are in the
         *                    Authorization header instead
         */
        record Ok(TokenRequest request, Optional<BasicCredentials> credentials) implements Parsed {

            public Ok {
                Objects.requireNonNull(request, "request");
                Objects.requireNonNull(credentials, "credentials");
            }
        }

        /** Not a valid token request: the server answers 400 with the reason. */
        record Invalid(String reason) implements Parsed {

            public Invalid {
                Objects.requireNonNull(reason, "reason");
            }
        }
    }
}
