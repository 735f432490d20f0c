package dev.regmirror.core.blob;

import dev.regmirror.core.reference.Digest;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Content-addressed local storage of blobs: each digest is stored once, whatever repositories
 * reach it, and is visible only once its bytes were verified. Every method does disk I/O: call
 * them from a disk executor, never from an event loop.
 */
public interface BlobStore {

    /** The committed blob with this digest, if present. */
    Optional<StoredBlob> find(Digest digest) throws IOException;

    /** Opens the committed blob with this digest for reading, if present. */
    Optional<OpenBlob> open(Digest digest) throws IOException;

    /** Begins writing a blob expected to have this digest and, where known (not -1), this size. */
    BlobIngest begin(Digest expected, long expectedSize) throws IOException;

    /** Reads a small committed blob whole (manifests); empty if absent. */
    Optional<byte[]> readAll(Digest digest) throws IOException;

    /** Writes small bytes already known to have this digest (manifests), committing them at once. */
    StoredBlob put(Digest digest, byte[] bytes) throws IOException;

    /**
     * Takes a file whose content the caller has verified to be {@code size} bytes of this digest
     * (a finished upload) into the store by renaming it, on the same file system; a blob already
     * stored under the digest stays as it was and the file is removed, so a digest is one file
     * however it came. The file is synced first.
     */
    StoredBlob adopt(Path file, Digest digest, long size) throws IOException;

    /**
     * Removes a committed blob. Readers that opened it before may finish; a later fill of the same
     * digest stores it again. Returns the size removed, or empty if the blob was not there.
     */
    Optional<Long> delete(Digest digest) throws IOException;

    /** A small committed blob's bytes read whole without marking it used (an inventory); empty if absent. */
    Optional<byte[]> peek(Digest digest) throws IOException;

    /** The index of committed blobs: sizes, recency, pins and what hosted repositories retain. */
    dev.regmirror.core.cache.CacheIndex index();

    /** How many blobs the cap evicted since start. */
    long evictions();
}
