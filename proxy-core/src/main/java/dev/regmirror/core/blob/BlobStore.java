package dev.regmirror.core.blob;

import dev.regmirror.core.reference.Digest;
import java.io.Closeable;
import java.io.IOException;
import java.nio.channels.ReadableByteChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
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

    /**
     * Begins spooling, in the local {@code ingest/} directory, a blob relayed from its owner in a
     * cluster: written and verified as {@link #begin} does, but its commit stores nothing (the owner
     * stores the blob) and only keeps the verified spool a minute for the relay's late readers.
     */
    BlobIngest beginRelay(Digest expected, long expectedSize) throws IOException;

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

    /**
     * A committed blob opened for a check: its bytes from the start, its size, and what identifies
     * the stored copy that was opened (a file's key on disk, an object's entity tag in a bucket),
     * which {@link #quarantine} compares. {@code readFailureIsDamage} says what a failing read
     * means: on a local disk the medium's damage (a bad sector's EIO); from a remote store a
     * network or server fault that says nothing of the bytes.
     */
    record Checked(ReadableByteChannel content, Object identity, long size, boolean readFailureIsDamage)
            implements Closeable {

        public Checked {
            Objects.requireNonNull(content, "content");
            Objects.requireNonNull(identity, "identity");
        }

        @Override
        public void close() throws IOException {
            content.close();
        }
    }

    /**
     * Opens a committed blob for a check, without marking it used (a check must not reorder
     * eviction) nor pinning it; empty if it is not there (evicted or purged meanwhile).
     */
    Optional<Checked> openForCheck(Digest digest) throws IOException;

    /** Whether a committed blob is there, asked of the store itself, without marking it used. */
    boolean has(Digest digest) throws IOException;

    /**
     * Moves a blob found corrupt (or unreadable) aside, under the name {@code CacheLayout#quarantined}
     * gives it, and out of the index, so it is never served again and a later pull fetches it
     * afresh. Only the stored copy that was checked moves: if the blob was removed or stored again
     * since ({@code identity} differs), nothing happens and the answer is empty. Returns where it
     * went: a path, or the object's {@code s3://} URL.
     */
    Optional<String> quarantine(Digest digest, Object identity, Instant at) throws IOException;

    /** A file left in the local {@code ingest/} directory. */
    record Leftover(String name, long size, Instant modified) {

        public Leftover {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(modified, "modified");
        }

        /** The files in {@code directory} last written before {@code before}. */
        public static List<Leftover> in(Path directory, Instant before) throws IOException {
            List<Leftover> found = new ArrayList<>();
            try (DirectoryStream<Path> all = Files.newDirectoryStream(directory)) {
                for (Path file : all) {
                    try {
                        BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
                        Instant modified = attributes.lastModifiedTime().toInstant();
                        if (modified.isBefore(before)) {
                            found.add(new Leftover(file.getFileName().toString(), attributes.size(), modified));
                        }
                    } catch (NoSuchFileException gone) {
                        // finished or removed meanwhile
                    }
                }
            }
            return found;
        }
    }

    /**
     * The files in the local {@code ingest/} directory last written before this store was opened:
     * writes interrupted and not cleaned up (swept only when a store opens). Reported, not removed.
     */
    List<Leftover> ingestLeftovers() throws IOException;

    /** The index of committed blobs: sizes, recency, pins and what hosted repositories retain. */
    dev.regmirror.core.cache.CacheIndex index();

    /** How many blobs the cap evicted since start. */
    long evictions();
}
