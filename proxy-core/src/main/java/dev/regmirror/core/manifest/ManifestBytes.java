package dev.regmirror.core.manifest;

import dev.regmirror.core.reference.Digest;
import java.util.Objects;

/**
 * A manifest exactly as the upstream sent it: its bytes, their digest and the media type it was
 * served with.
 */
public record ManifestBytes(String mediaType, Digest digest, byte[] bytes) {

    public ManifestBytes {
        Objects.requireNonNull(mediaType, "mediaType");
        Objects.requireNonNull(digest, "digest");
        Objects.requireNonNull(bytes, "bytes");
    }

    public int size() {
        return bytes.length;
    }

    @Override
    public String toString() {
        return "ManifestBytes[" + mediaType + ", " + digest + ", " + bytes.length + " bytes]";
    }
}
