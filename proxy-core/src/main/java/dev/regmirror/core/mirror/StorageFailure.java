package dev.regmirror.core.mirror;

import dev.regmirror.core.blob.BlobTooLargeException;
import dev.regmirror.core.client.BlobBody;
import java.io.IOException;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The cache could not store a blob (disk full, write error): not the upstream's fault and not the
 * client's. Where the failure came before any byte was read, it carries the upstream body, so one
 * requester can still be served straight through.
 */
public final class StorageFailure extends RuntimeException {

    private final transient AtomicReference<BlobBody> unread;

    StorageFailure(IOException cause, BlobBody unread) {
        super("cannot store the blob: " + cause.getMessage(), cause);
        this.unread = new AtomicReference<>(unread);
    }

    /**
     * Whether the cache as a whole is in trouble (disk full, write errors), as opposed to this one
     * blob being larger than the cache's cap, which says nothing about the next blob.
     */
    boolean troublesTheCache() {
        return !(getCause() instanceof BlobTooLargeException);
    }

    /** The upstream body nobody has read yet; the first caller gets it, later callers nothing. */
    Optional<BlobBody> takeBody() {
        return Optional.ofNullable(unread.getAndSet(null));
    }
}
