package dev.regmirror.core.manifest;

import dev.regmirror.core.reference.Digest;

/**
 * A content descriptor as in the
 * <a href="https://github.com/opencontainers/image-spec/blob/main/descriptor.md">OCI descriptor</a>,
 * with the platform an index entry names (null where there is none).
 */
public record Descriptor(String mediaType, Digest digest, long size, Platform platform) {

    /** An index entry's platform: {@code linux/amd64}, {@code linux/arm64/v8}. */
    public record Platform(String os, String architecture, String variant) {

        @Override
        public String toString() {
            return os + "/" + architecture + (variant == null || variant.isEmpty() ? "" : "/" + variant);
        }
    }
}
