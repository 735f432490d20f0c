package dev.regmirror.core.config;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Settings of the on-disk cache: where it lives, and the most bytes of blobs and manifests it may
 * hold (0: no cap).
 */
public record CacheSettings(Path directory, long maxBytes) {

    public CacheSettings {
        Objects.requireNonNull(directory, "directory");
        if (maxBytes < 0) {
            throw new IllegalArgumentException("maxBytes must not be negative");
        }
    }
}
