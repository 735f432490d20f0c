package dev.regmirror.core.mirror;

import java.util.Objects;
import java.util.Optional;

/**
 * The referrers list to answer with: the image index, its media type, whether the {@code artifactType}
 * filter was applied (for {@code OCI-Filters-Applied}), and, when served from the cache because the
 * upstream could not answer, why (for the {@code Warning} header).
 */
public record ReferrersAnswer(byte[] index, String mediaType, boolean filtered, Optional<String> staleBecause) {

    public ReferrersAnswer {
        Objects.requireNonNull(index, "index");
        Objects.requireNonNull(mediaType, "mediaType");
        Objects.requireNonNull(staleBecause, "staleBecause");
    }
}
