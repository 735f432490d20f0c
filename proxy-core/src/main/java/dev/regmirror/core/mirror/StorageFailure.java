package dev.regmirror.core.mirror;

import dev.regmirror.core.blob.BlobTooLargeException;
import dev.regmirror.core.client.BlobBody;
import java.io.IOException;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The cache could not read or store a blob (a store that stopped answering, disk full, a write
 * error): not the upstream's fault and not the client's. Where the failure came before any byte
 * was read from the upstream, it carries the upstream body, so one requester can still be served
 * straight through. The words logged for it are decided here, by what was attempted.
 */
public final class StorageFailure extends RuntimeException {

    /** What the cache was doing when it failed. */
    public enum Operation {
        /** Looking a blob up or opening it. */
        READ("cannot read the blob", "the cache cannot be read"),
        /** Beginning, writing or committing a blob. */
        WRITE("cannot store the blob", "the cache cannot store blobs");

        private final String blob;
        private final String cache;

        Operation(String blob, String cache) {
            this.blob = blob;
            this.cache = cache;
        }
    }

    private final Operation operation;
    private final transient AtomicReference<BlobBody> unread;

    private StorageFailure(Operation operation, IOException cause, BlobBody unread) {
        super(operation.blob + ": " + cause.getMessage(), cause);
        this.operation = operation;
        this.unread = new AtomicReference<>(unread);
    }

    /** The store could not be asked for a blob (a lookup or an open failed). */
    static StorageFailure read(IOException cause) {
        return new StorageFailure(Operation.READ, cause, null);
    }

    /** The store could not take a blob; {@code unread} is the upstream body no byte was read from, or null. */
    static StorageFailure write(IOException cause, BlobBody unread) {
        return new StorageFailure(Operation.WRITE, cause, unread);
    }

    /** What was attempted. */
    public Operation operation() {
        return operation;
    }

    /** The condition of the cache this failure shows, as logged: "the cache cannot be read" or "... store blobs". */
    String condition() {
        return operation.cache;
    }

    /**
     * Whether the cache as a whole is in trouble (disk full, write errors, a store not answering),
     * as opposed to this one blob being larger than the cache's cap, which says nothing about the
     * next blob.
     */
    boolean troublesTheCache() {
        return !(getCause() instanceof BlobTooLargeException);
    }

    /** The upstream body nobody has read yet; the first caller gets it, later callers nothing. */
    Optional<BlobBody> takeBody() {
        return Optional.ofNullable(unread.getAndSet(null));
    }
}
