package dev.regmirror.core.hosted;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * One chunk of an upload being written: bytes are appended at the upload's end and hashed on the
 * way; {@link #complete()} makes them part of the upload, {@link #abort()} takes them back out, so a
 * chunk cut short leaves the upload as it was. Disk I/O: call from a disk executor, one thread at a
 * time.
 */
public interface ChunkWriter {

    /** Appends the buffer's remaining bytes. */
    void write(ByteBuffer buffer) throws IOException;

    /** How many bytes this chunk has written so far. */
    long written();

    /**
     * Ends the chunk, checking its length against the {@code Content-Range} it was announced with;
     * the upload as it now stands.
     *
     * @throws dev.regmirror.core.error.InvalidRequestException BLOB_UPLOAD_INVALID when the body was
     *         not as long as its range said (the chunk is taken back out)
     */
    Upload complete() throws IOException;

    /** Takes what this chunk wrote back out of the upload. Safe after {@link #complete()} (no-op) and twice. */
    void abort();
}
