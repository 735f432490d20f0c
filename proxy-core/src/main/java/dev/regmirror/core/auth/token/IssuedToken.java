package dev.regmirror.core.auth.token;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * A signed token and what it grants, with its
 * <a href="https://distribution.github.io/distribution/spec/auth/token/#token-response-fields">token
 * response</a>; the token is never printed.
 *
 * @param token     the signed JWT
 * @param expiresIn how long it is valid from {@code issuedAt}
 * @param issuedAt  when it was issued, to the second
 * @param access    what it grants (possibly nothing)
 */
public record IssuedToken(String token, Duration expiresIn, Instant issuedAt, List<Scope> access) {

    public IssuedToken {
        Objects.requireNonNull(token, "token");
        Objects.requireNonNull(expiresIn, "expiresIn");
        Objects.requireNonNull(issuedAt, "issuedAt");
        access = List.copyOf(access);
    }

    /**
     * The response body: {@code token} and {@code access_token} (the same JWT, for Docker's and for
     * OAuth2 clients), {@code expires_in} in seconds, {@code issued_at} in RFC 3339.
     */
    public byte[] json(ObjectMapper mapper) {
        try {
            return mapper.writeValueAsBytes(new ResponseJson(token, token, expiresIn.toSeconds(), issuedAt.toString()));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a token response is four plain fields", e);
        }
    }

    @Override
    public String toString() {
        return "IssuedToken[<redacted>, expiresIn=" + expiresIn + ", issuedAt=" + issuedAt + ", access=" + access + "]";
    }

    /** The wire shape of the token response. */
    private record ResponseJson(@JsonProperty("token") String token, @JsonProperty("access_token") String accessToken,
                                @JsonProperty("expires_in") long expiresIn, @JsonProperty("issued_at") String issuedAt) {
    }
}
