package dev.regmirror.core.reference;

import dev.regmirror.core.error.InvalidRequestException;
import dev.regmirror.core.error.Printable;
import dev.regmirror.core.error.RegistryErrorCode;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * A content digest such as {@code sha256:<64 hex>}; the algorithms a registry must verify per the
 * <a href="https://github.com/opencontainers/image-spec/blob/main/descriptor.md#digests">image spec
 * digests</a> (sha256 and sha512). Validated so that {@link #hex()} is safe to use in a file path.
 */
public record Digest(String algorithm, String hex) implements Reference {

    public Digest {
        boolean valid = ("sha256".equals(algorithm) && isLowerHex(hex, 64))
                || ("sha512".equals(algorithm) && isLowerHex(hex, 128));
        if (!valid) {
            throw new InvalidRequestException(RegistryErrorCode.DIGEST_INVALID,
                    "invalid digest \"" + Printable.of(algorithm + ":" + hex) + "\"");
        }
    }

    /** Whether the value is exactly {@code length} characters of {@code [a-f0-9]} (a loop: every request parses a digest). */
    private static boolean isLowerHex(String value, int length) {
        if (value == null || value.length() != length) {
            return false;
        }
        for (int i = 0; i < length; i++) {
            char c = value.charAt(i);
            if (!(c >= '0' && c <= '9' || c >= 'a' && c <= 'f')) {
                return false;
            }
        }
        return true;
    }

    /** Parses {@code algorithm:hex}; anything malformed or of another algorithm is DIGEST_INVALID. */
    public static Digest parse(String value) {
        int colon = value == null ? -1 : value.indexOf(':');
        if (colon < 0) {
            throw new InvalidRequestException(RegistryErrorCode.DIGEST_INVALID,
                    "invalid digest \"" + Printable.of(value) + "\"");
        }
        return new Digest(value.substring(0, colon), value.substring(colon + 1));
    }

    /** The sha256 digest of the given bytes. */
    public static Digest sha256Of(byte[] bytes) {
        return new Digest("sha256", HexFormat.of().formatHex(sha256().digest(bytes)));
    }

    /** A fresh MessageDigest for this digest's algorithm, to verify content as it streams. */
    public MessageDigest newHasher() {
        try {
            return MessageDigest.getInstance("sha256".equals(algorithm) ? "SHA-256" : "SHA-512");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JVM lacks " + algorithm, e);
        }
    }

    /** Whether the finished hasher's result is this digest. */
    public boolean matches(MessageDigest finishedHasher) {
        return hex.equals(HexFormat.of().formatHex(finishedHasher.digest()));
    }

    /** The first twelve hex characters, for log lines and messages. */
    public String shortForm() {
        return algorithm + ":" + hex.substring(0, 12);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JVM lacks SHA-256", e);
        }
    }

    @Override
    public String toString() {
        return algorithm + ":" + hex;
    }
}
