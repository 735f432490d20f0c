package dev.regmirror.core.mirror;

import dev.regmirror.core.manifest.ManifestBytes;
import java.util.Objects;
import java.util.Optional;

/**
 * The manifest to answer with, and, when it is served from the cache because the upstream could
 * not confirm it, why (for the response's {@code Warning} header).
 */
public record ManifestAnswer(ManifestBytes manifest, Optional<String> staleBecause) {

    public ManifestAnswer {
        Objects.requireNonNull(manifest, "manifest");
        Objects.requireNonNull(staleBecause, "staleBecause");
    }

    static ManifestAnswer fresh(ManifestBytes manifest) {
        return new ManifestAnswer(manifest, Optional.empty());
    }

    /** The same staleness, for another manifest (a list's child served in its place). */
    ManifestAnswer with(ManifestBytes other) {
        return new ManifestAnswer(other, staleBecause);
    }
}
