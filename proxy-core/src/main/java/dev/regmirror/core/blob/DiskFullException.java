package dev.regmirror.core.blob;

import dev.regmirror.core.reference.Digest;
import java.io.IOException;

/**
 * The cache's file system has no room for a blob of its declared size, counting the bytes the
 * downloads in progress still have to write: it is refused before any byte is read, so the caller
 * can stream the blob through instead of running out of space halfway through a response.
 */
public final class DiskFullException extends IOException {

    DiskFullException(Digest digest, long size, long usable, long reserved) {
        super("no space for blob " + digest.shortForm() + " of " + size + " bytes: " + usable
                + " bytes free on the cache's file system, " + reserved + " of them promised to downloads in progress");
    }
}
