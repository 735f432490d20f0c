package dev.regmirror.core.config;

import java.util.Objects;
import java.util.Optional;

/**
 * Where the cache keeps its content: on the local file system under {@code cache.directory} (the
 * default), or in an S3-compatible bucket, with the local directory then holding only downloads in
 * progress.
 */
public record StorageSettings(Type type, Optional<S3Settings> s3) {

    /** The kinds of storage. */
    public enum Type {
        FILESYSTEM, S3
    }

    public StorageSettings {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(s3, "s3");
        if ((type == Type.S3) != s3.isPresent()) {
            throw new IllegalArgumentException("S3 settings go with, and only with, type S3");
        }
    }

    /** The local file system, under the cache directory. */
    public static StorageSettings filesystem() {
        return new StorageSettings(Type.FILESYSTEM, Optional.empty());
    }
}
