package dev.regmirror.core.blob;

import dev.regmirror.core.reference.Digest;
import java.util.Objects;

/** A committed blob: its digest and its size. */
public record StoredBlob(Digest digest, long size) {

    public StoredBlob {
        Objects.requireNonNull(digest, "digest");
    }
}
