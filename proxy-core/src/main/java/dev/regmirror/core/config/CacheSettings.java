package dev.regmirror.core.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * Settings of the on-disk cache: where it lives, the most bytes it may hold (0: no cap), the
 * longest one download may take, and how long to stream blobs through uncached after a storage
 * failure before trying to cache again, and the most bytes per second a verify reads.
 */
public record CacheSettings(Path directory, long maxBytes, Duration fillTimeout, Duration storageRetry,
                            long verifyBytesPerSecond) {

    public CacheSettings {
        Objects.requireNonNull(directory, "directory");
        Objects.requireNonNull(fillTimeout, "fillTimeout");
        Objects.requireNonNull(storageRetry, "storageRetry");
        if (maxBytes < 0) {
            throw new IllegalArgumentException("maxBytes must not be negative");
        }
        if (verifyBytesPerSecond <= 0) {
            throw new IllegalArgumentException("verifyBytesPerSecond must be positive");
        }
    }
}
