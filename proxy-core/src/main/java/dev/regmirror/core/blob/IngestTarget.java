package dev.regmirror.core.blob;

import dev.regmirror.core.reference.Digest;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Where an ingest's bytes go once they are known good: the store that began it. It may follow the
 * bytes as they are written (an object store uploads parts meanwhile), takes the verified, synced
 * ingest file as the blob, and hears when the ingest ended either way.
 */
public interface IngestTarget {

    /** {@code total} bytes are now in the ingest file; called after each write, on the writer's thread. */
    default void written(long total) throws IOException {
    }

    /**
     * Makes the verified, synced ingest file the blob {@code digest} of {@code size} bytes.
     *
     * @return a local file readers may open for the blob's bytes from now on (the committed file, or
     *         the ingest file itself when the blob went elsewhere and the file is kept a while)
     */
    Path commit(Path file, Digest digest, long size) throws IOException;

    /** The ingest ended: committed, or abandoned (its file already removed). Called once. */
    void finished(BlobIngest ingest, boolean committed);
}
