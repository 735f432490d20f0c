package dev.regmirror.core.hosted;

import dev.regmirror.core.reference.Digest;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * One entry of a <a href="https://github.com/opencontainers/distribution-spec/blob/main/spec.md#listing-referrers">
 * referrers list</a>: a manifest of the repository whose {@code subject} is the digest asked for.
 *
 * @param artifactType the manifest's {@code artifactType}, else its config's media type
 */
public record Referrer(String mediaType, Digest digest, long size, Optional<String> artifactType,
                       Map<String, String> annotations) {

    public Referrer {
        Objects.requireNonNull(mediaType, "mediaType");
        Objects.requireNonNull(digest, "digest");
        Objects.requireNonNull(artifactType, "artifactType");
        annotations = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(annotations));
    }
}
