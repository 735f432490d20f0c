package dev.regmirror.core.reference;

import dev.regmirror.core.error.InvalidRequestException;
import dev.regmirror.core.error.Printable;
import dev.regmirror.core.error.RegistryErrorCode;
import java.util.regex.Pattern;

/**
 * A tag: {@code [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}}, the grammar of the
 * <a href="https://github.com/opencontainers/distribution-spec/blob/main/spec.md#pulling-manifests">
 * distribution spec</a>.
 */
public record Tag(String value) implements Reference {

    private static final Pattern GRAMMAR = Pattern.compile("[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}");

    public Tag {
        if (!isValid(value)) {
            throw new InvalidRequestException(RegistryErrorCode.DIGEST_INVALID,
                    "invalid tag \"" + Printable.of(value) + "\"");
        }
    }

    static boolean isValid(String value) {
        return value != null && GRAMMAR.matcher(value).matches();
    }

    @Override
    public String toString() {
        return value;
    }
}
