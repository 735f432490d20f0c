package dev.regmirror.core.blob;

import dev.regmirror.core.reference.Digest;
import java.io.IOException;

/**
 * A blob declared larger than the cache's whole cap: caching it would evict everything else and
 * then itself, so it is not stored at all (the caller streams it through uncached).
 */
public final class BlobTooLargeException extends IOException {

    public BlobTooLargeException(Digest digest, long size, long maxBytes) {
        super("blob " + digest.shortForm() + " of " + size + " bytes is larger than cache.max-size (" + maxBytes
                + " bytes)");
    }
}
