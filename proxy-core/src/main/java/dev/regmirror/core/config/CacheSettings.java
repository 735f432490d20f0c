package dev.regmirror.core.config;

import java.nio.file.Path;
import java.util.Objects;

/** Settings of the on-disk cache: where it lives. */
public record CacheSettings(Path directory) {

    public CacheSettings {
        Objects.requireNonNull(directory, "directory");
    }
}
