package dev.regmirror.core.auth;

import dev.regmirror.core.error.Printable;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;

/**
 * What a request's {@code Authorization} header (<a href="https://www.rfc-editor.org/rfc/rfc9110#section-11.6.2">
 * RFC 9110</a>) presents: nothing, Basic credentials (<a href="https://www.rfc-editor.org/rfc/rfc7617">RFC
 * 7617</a>), a bearer token, or something malformed; parsing never throws.
 */
public sealed interface Authorization {

    /** No header, or an empty one. */
    Authorization NONE = new None();

    /** Longer values are refused before decoding; no credentials or token of regmirror's come near it. */
    int MAX_LENGTH = 8192;

    /**
     * Schemes other than Basic and Bearer that a refusal names (IANA's registry, lower case). Any
     * other first word is not repeated: a client that sends a bare token or password has no scheme,
     * and its first word is the secret, which would then be logged.
     */
    Set<String> KNOWN_SCHEMES = Set.of("digest", "negotiate", "ntlm", "hoba", "mutual", "scram-sha-1",
            "scram-sha-256", "vapid", "aws4-hmac-sha256", "token", "oauth", "dpop", "privatetoken", "concealed");

    /** Reads a header value; {@code null} is {@link #NONE}. */
    static Authorization parse(String header) {
        if (header == null || header.isBlank()) {
            return NONE;
        }
        if (header.length() > MAX_LENGTH) {
            return new Malformed("the Authorization header is longer than " + MAX_LENGTH + " characters");
        }
        String value = header.strip();
        int space = 0;
        while (space < value.length() && value.charAt(space) != ' ' && value.charAt(space) != '\t') {
            space++;
        }
        String scheme = value.substring(0, space).toLowerCase(Locale.ROOT);
        String rest = value.substring(space).strip();
        return switch (scheme) {
            case "basic" -> basic(rest);
            case "bearer" -> rest.isEmpty() || !rest.chars().allMatch(Authorization::isToken68)
                    ? new Malformed("a Bearer header holds one token") : new Bearer(rest);
            default -> new Malformed(KNOWN_SCHEMES.contains(scheme) ? "unsupported authorization scheme \""
                    + value.substring(0, space) + "\" (Basic and Bearer are taken)"
                    : "an Authorization value that starts with neither Basic nor Bearer");
        };
    }

    private static Authorization basic(String encoded) {
        if (encoded.isEmpty() || !encoded.chars().allMatch(Authorization::isToken68)) {
            return new Malformed("Basic credentials are one base64 value");
        }
        byte[] decoded;
        try {
            decoded = Base64.getDecoder().decode(encoded);
        } catch (IllegalArgumentException e) {
            return new Malformed("Basic credentials are not valid base64");
        }
        String pair;
        try {
            pair = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(decoded)).toString();
        } catch (CharacterCodingException e) {
            return new Malformed("Basic credentials are not UTF-8");
        }
        int colon = pair.indexOf(':');
        if (colon < 0) {
            return new Malformed("Basic credentials hold no ':' between user name and password");
        }
        String username = pair.substring(0, colon);
        if (username.isEmpty()) {
            return new Malformed("Basic credentials with an empty user name");
        }
        if (!Account.isValidName(username)) {
            return new Malformed("Basic credentials with an invalid user name \"" + Printable.of(username) + "\"");
        }
        return new Basic(new BasicCredentials(username, pair.substring(colon + 1)));
    }

    /** The characters of RFC 9110's token68, which base64 and JWTs are written in. */
    private static boolean isToken68(int c) {
        return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
                || c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/' || c == '=';
    }

    /** No credentials: the caller is anonymous. */
    record None() implements Authorization {
    }

    /** A user name and password to verify against the accounts. */
    record Basic(BasicCredentials credentials) implements Authorization {

        public Basic {
            Objects.requireNonNull(credentials, "credentials");
        }
    }

    /** A bearer token to verify; never printed. */
    record Bearer(String token) implements Authorization {

        public Bearer {
            Objects.requireNonNull(token, "token");
        }

        @Override
        public String toString() {
            return "Bearer[<redacted>]";
        }
    }

    /** A header that cannot be read; the reason never holds the credentials. */
    record Malformed(String reason) implements Authorization {

        public Malformed {
            Objects.requireNonNull(reason, "reason");
        }
    }
}
