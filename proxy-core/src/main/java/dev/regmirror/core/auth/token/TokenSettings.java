package dev.regmirror.core.auth.token;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * Settings of regmirror's token endpoint ({@code regmirror.auth.token}).
 *
 * @param service    the service clients name in token requests, and the tokens' audience
 * @param issuer     the tokens' issuer
 * @param lifetime   how long a token is valid
 * @param signingKey a PEM file of the EC P-256 private key tokens are signed with; when empty, a key
 *                   is generated at start (tokens then do not outlive the process)
 */
public record TokenSettings(String service, String issuer, Duration lifetime, Optional<Path> signingKey) {

    /** The spec's floor: "a token should never be returned with less than 60 seconds to live". */
    public static final Duration MIN_LIFETIME = Duration.ofSeconds(60);
    /** Tokens cannot be revoked, so none lives long. */
    public static final Duration MAX_LIFETIME = Duration.ofHours(1);

    public TokenSettings {
        Objects.requireNonNull(signingKey, "signingKey");
        if (!isValidName(service) || !isValidName(issuer)) {
            throw new IllegalArgumentException("service and issuer are printable ASCII without spaces, quotes or backslashes");
        }
        if (lifetime.compareTo(MIN_LIFETIME) < 0 || lifetime.compareTo(MAX_LIFETIME) > 0) {
            throw new IllegalArgumentException("a token lifetime is 60s to 1h, was " + lifetime);
        }
    }

    /** The defaults: service and issuer {@code regmirror}, five minutes, a generated key. */
    public static TokenSettings defaults() {
        return new TokenSettings("regmirror", "regmirror", Duration.ofMinutes(5), Optional.empty());
    }

    /** Whether a value can be a service or issuer name (it goes into a quoted header parameter). */
    public static boolean isValidName(String value) {
        return value != null && !value.isEmpty() && value.length() <= 255
                && value.chars().allMatch(c -> c > 0x20 && c < 0x7f && c != '"' && c != '\\');
    }
}
