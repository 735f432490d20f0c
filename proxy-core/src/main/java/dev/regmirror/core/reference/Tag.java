package dev.regmirror.core.reference;

import dev.regmirror.core.error.InvalidRequestException;
import dev.regmirror.core.error.Printable;
import dev.regmirror.core.error.RegistryErrorCode;

/**
 * A tag: {@code [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}}, the grammar of the
 * <a href="https://github.com/opencontainers/distribution-spec/blob/main/spec.md#pulling-manifests">
 * distribution spec</a>.
 */
public record Tag(String value) implements Reference {


    public Tag {
        if (!isValid(value)) {
            throw new InvalidRequestException(RegistryErrorCode.DIGEST_INVALID,
                    "invalid tag \"" + Printable.of(value) + "\"");
        }
    }

    /** {@code [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}}, by a scan: every request by tag checks one. */
    static boolean isValid(String value) {
        if (value == null || value.isEmpty() || value.length() > 128) {
            return false;
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            boolean word = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_';
            if (!word && (i == 0 || c != '.' && c != '-')) {
                return false;
            }
        }
        return true;
    }

    @Override
    public String toString() {
        return value;
    }
}
