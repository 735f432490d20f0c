package dev.regmirror.core.reference;

import dev.regmirror.core.error.InvalidRequestException;
import dev.regmirror.core.error.Printable;
import dev.regmirror.core.error.RegistryErrorCode;

/**
 * What follows {@code /manifests/} in a request: a {@link Tag} or a {@link Digest}, as in the
 * <a href="https://github.com/opencontainers/distribution-spec/blob/main/spec.md#pulling-manifests">
 * distribution spec's manifest pull</a>.
 */
public sealed interface Reference permits Tag, Digest {

    /** Parses a tag or a digest; anything else is a 400 DIGEST_INVALID. */
    static Reference parse(String value) {
        if (value != null && value.indexOf(':') >= 0) {
            return Digest.parse(value);
        }
        if (value != null && Tag.isValid(value)) {
            return new Tag(value);
        }
        throw new InvalidRequestException(RegistryErrorCode.DIGEST_INVALID,
                "invalid reference \"" + Printable.of(value) + "\": neither a tag nor a digest");
    }
}
