package dev.regmirror.core.client;

import dev.regmirror.core.manifest.ManifestBytes;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.reference.Tag;
import java.util.Objects;

/**
 * What an upstream knows of the manifests that refer to a subject: the list its
 * <a href="https://github.com/opencontainers/distribution-spec/blob/main/spec.md#listing-referrers">referrers
 * API</a> answered, or, where it has no such API (it answered 404), the image index under the
 * <a href="https://github.com/opencontainers/distribution-spec/blob/main/spec.md#referrers-tag-schema">referrers
 * tag schema</a>'s tag, or nothing at all.
 */
public sealed interface UpstreamReferrers {

    /**
     * The referrers API's answer, as sent.
     *
     * @param index     the image index's bytes
     * @param mediaType the answer's Content-Type
     * @param filtered  whether the upstream applied the {@code artifactType} filter ({@code OCI-Filters-Applied})
     */
    record Listed(byte[] index, String mediaType, boolean filtered) implements UpstreamReferrers {

        public Listed {
            Objects.requireNonNull(index, "index");
            Objects.requireNonNull(mediaType, "mediaType");
        }
    }

    /** No referrers API; the image index tagged {@link #tagOf} the subject, unfiltered. */
    record Tagged(ManifestBytes index) implements UpstreamReferrers {

        public Tagged {
            Objects.requireNonNull(index, "index");
        }
    }

    /** No referrers API, and no tag of the tag schema: no referrers known. */
    record None() implements UpstreamReferrers {
    }

    /**
     * The tag schema's tag of a subject: {@code <alg>-<ref>}, the algorithm cut to 32 characters and
     * the encoded digest to 64 ({@code sha256:ab12…} is {@code sha256-ab12…}).
     */
    static Tag tagOf(Digest subject) {
        String algorithm = subject.algorithm().length() > 32 ? subject.algorithm().substring(0, 32) : subject.algorithm();
        String hex = subject.hex().length() > 64 ? subject.hex().substring(0, 64) : subject.hex();
        return new Tag(algorithm.replace('+', '-') + "-" + hex);
    }
}
