package dev.regmirror.core.reference;

import dev.regmirror.core.error.InvalidRequestException;
import dev.regmirror.core.error.Printable;
import dev.regmirror.core.error.RegistryErrorCode;
import java.util.Objects;

/**
 * An image as people write it ({@code alpine}, {@code ghcr.io/org/app:1.2},
 * {@code localhost:5000/app@sha256:…}): the name, still to be routed to an upstream, and the tag
 * ({@code latest} when none is given) or digest. With both a tag and a digest, the digest wins, as
 * for {@code docker pull}.
 */
public record ImageReference(String name, Reference reference) {

    public ImageReference {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(reference, "reference");
        if (name.isEmpty()) {
            throw new InvalidRequestException(RegistryErrorCode.NAME_INVALID, "empty image name");
        }
    }

    /** Parses {@code name[:tag][@digest]}; a bad tag is TAG_INVALID, a bad digest DIGEST_INVALID, no name NAME_INVALID. */
    public static ImageReference parse(String image) {
        if (image == null || image.isBlank()) {
            throw new InvalidRequestException(RegistryErrorCode.NAME_INVALID, "no image named");
        }
        String rest = image;
        Reference digest = null;
        int at = rest.indexOf('@');
        if (at >= 0) {
            digest = Digest.parse(rest.substring(at + 1));
            rest = rest.substring(0, at);
        }
        int slash = rest.lastIndexOf('/');
        int colon = rest.lastIndexOf(':');
        String name = rest;
        Reference tag = new Tag("latest");
        if (colon > slash) {
            name = rest.substring(0, colon);
            String value = rest.substring(colon + 1);
            if (!Tag.isValid(value)) {
                throw new InvalidRequestException(RegistryErrorCode.TAG_INVALID,
                        "invalid tag \"" + Printable.of(value) + "\" in \"" + Printable.of(image) + "\"");
            }
            tag = new Tag(value);
        }
        if (name.isEmpty()) {
            throw new InvalidRequestException(RegistryErrorCode.NAME_INVALID,
                    "no image name in \"" + Printable.of(image) + "\"");
        }
        return new ImageReference(name, digest != null ? digest : tag);
    }

    @Override
    public String toString() {
        return name + (reference instanceof Digest ? "@" : ":") + reference;
    }
}
