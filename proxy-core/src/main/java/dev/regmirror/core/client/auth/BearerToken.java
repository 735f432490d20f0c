package dev.regmirror.core.client.auth;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * A bearer token from a token realm and how long it lives, as in the
 * <a href="https://distribution.github.io/distribution/spec/auth/token/#token-response-fields">token
 * response fields</a>; never printed.
 */
public record BearerToken(String value, Duration expiresIn) {

    /** What the spec says to assume when the realm does not say how long a token lives. */
    public static final Duration DEFAULT_EXPIRY = Duration.ofSeconds(60);

    private static final ObjectMapper MAPPER = new ObjectMapper();

    public BearerToken {
        Objects.requireNonNull(value, "value");
        Objects.requireNonNull(expiresIn, "expiresIn");
        if (value.isEmpty() || !value.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
            throw new IllegalArgumentException("a token is non-empty printable ASCII");
        }
    }

    /**
     * Reads a token response: {@code token} or else {@code access_token}, and {@code expires_in}
     * (seconds, 60 when absent or not positive); empty when there is no usable token.
     */
    public static Optional<BearerToken> fromJson(byte[] json) {
        TokenJson parsed;
        try {
            parsed = MAPPER.readValue(json, TokenJson.class);
        } catch (IOException e) {
            return Optional.empty();
        }
        String value = parsed.token() != null && !parsed.token().isEmpty() ? parsed.token() : parsed.accessToken();
        if (value == null || value.isEmpty() || !value.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
            return Optional.empty();
        }
        Long seconds = parsed.expiresIn();
        return Optional.of(new BearerToken(value,
                seconds == null || seconds <= 0 ? DEFAULT_EXPIRY : Duration.ofSeconds(seconds)));
    }

    /** The Authorization header value. */
    public String header() {
        return "Bearer " + value;
    }

    @Override
    public String toString() {
        return "BearerToken[<redacted>, expiresIn=" + expiresIn + "]";
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    private record TokenJson(@JsonProperty("token") String token,
                             @JsonProperty("access_token") String accessToken,
                             @JsonProperty("expires_in") Long expiresIn) {
    }
}
