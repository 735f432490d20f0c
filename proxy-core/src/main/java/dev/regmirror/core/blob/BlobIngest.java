package dev.regmirror.core.blob;

import dev.regmirror.core.reference.Digest;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.security.MessageDigest;

/**
 * One blob being written: bytes go to an ingest file and through the digest as they arrive; only
 * {@link #commit()} makes them visible, after checking size and digest, following containerd's
 * writer ({@code plugins/content/local/writer.go}): write, verify, fsync, atomic rename.
 *
 * <p>Writes come from one thread at a time, and so do hashes, which may be another thread
 * ({@link #append}, {@link #hash}); {@link #written()} may be read from any thread.
 */
public final class BlobIngest implements AutoCloseable {

    private final IngestTarget target;
    private final Digest expected;
    private final long expectedSize;
    private final Path path;
    private final FileChannel channel;
    private final MessageDigest hasher;
    private volatile long written;
    /** Bytes through the hasher; written by the one thread hashing at a time, read by verify after it. */
    private long hashed;
    private boolean verified;
    private boolean finished;
    private volatile Path readable;
    private final java.util.concurrent.atomic.AtomicBoolean ended = new java.util.concurrent.atomic.AtomicBoolean();

    /**
     * @param target  the store that began the ingest, which takes the file once it is verified
     * @param path    the ingest file, opened for writing as {@code channel}
     */
    public BlobIngest(IngestTarget target, Digest expected, long expectedSize, Path path, FileChannel channel) {
        this.target = target;
        this.expected = expected;
        this.expectedSize = expectedSize;
        this.path = path;
        this.channel = channel;
        this.hasher = expected.newHasher();
    }

    public Digest expected() {
        return expected;
    }

    /** The ingest file; readers may follow it while it grows (it is renamed on commit). */
    public Path path() {
        return path;
    }

    /**
     * Where a reader opens the bytes now: the ingest file until the commit, then the file the store
     * named (the committed blob, or the ingest file when the store keeps it a while).
     */
    public Path readablePath() {
        Path committed = readable;
        return committed != null ? committed : path;
    }

    /** How many bytes were written so far. */
    public long written() {
        return written;
    }

    /** How many of the declared bytes are still to come (0 when no size was declared). */
    long unwritten() {
        return expectedSize < 0 ? 0 : Math.max(0, expectedSize - written);
    }

    /** Appends the buffer's remaining bytes, hashing them on the way. */
    public void write(ByteBuffer buffer) throws IOException {
        ByteBuffer forHash = buffer.duplicate();
        append(buffer);
        hash(forHash);
    }

    /**
     * Appends the buffer's remaining bytes to the file without hashing them: the caller passes the
     * same bytes, in the same order, to {@link #hash} (possibly on another thread, one call at a
     * time), so that writing and hashing a large blob run side by side. {@link #verify()} refuses
     * an ingest whose hashed bytes are not all its written ones.
     */
    public void append(ByteBuffer buffer) throws IOException {
        if (finished || verified) {
            throw new IOException("ingest of " + expected + " already " + (finished ? "finished" : "verified"));
        }
        int n = buffer.remaining();
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
        written += n;
        if (expectedSize >= 0 && written > expectedSize) {
            throw new DigestMismatchException("blob " + expected + " is longer than the expected "
                    + expectedSize + " bytes");
        }
        target.written(written);
    }

    /** Hashes the buffer's remaining bytes, the next ones {@link #append} wrote or will write. */
    public void hash(ByteBuffer buffer) {
        hashed += buffer.remaining();
        hasher.update(buffer);
    }

    /**
     * Starts writing what was written so far to the disk, so that the sync in {@link #commit()}
     * has little left to do; may run on another thread beside {@link #write}. A channel already
     * closed by commit or abort makes this a no-op.
     */
    public void flush() throws IOException {
        try {
            channel.force(false);
        } catch (java.nio.channels.ClosedChannelException finished) {
            // committed or aborted meanwhile: nothing left to flush
        }
    }

    /**
     * Checks size and digest of what was written, without making it visible: the bytes are then
     * known good, and a reader may be given them before {@link #commit()} syncs and moves the
     * file. No write may follow. On a mismatch the ingest is removed.
     */
    public void verify() throws IOException {
        if (finished) {
            throw new IOException("ingest of " + expected + " already finished");
        }
        if (verified) {
            return;
        }
        try {
            if (expectedSize >= 0 && written != expectedSize) {
                throw new DigestMismatchException("blob " + expected + " has " + written
                        + " bytes where " + expectedSize + " were expected");
            }
            if (hashed != written) {
                throw new IllegalStateException("ingest of " + expected + " verified with " + hashed + " of its "
                        + written + " bytes hashed");
            }
            if (!expected.matches(hasher)) {
                throw new DigestMismatchException("blob content does not match digest " + expected);
            }
        } catch (IOException | RuntimeException e) {
            abort();
            throw e;
        }
        verified = true;
    }

    /**
     * Verifies size and digest (unless {@link #verify()} did), syncs and moves the file under its
     * digest. A blob that another writer committed first counts as success. On failure the ingest
     * is removed.
     */
    public StoredBlob commit() throws IOException {
        verify();
        finished = true;
        boolean committed = false;
        try {
            channel.force(true);
            channel.close();
            readable = target.commit(path, expected, written);
            committed = true;
            return new StoredBlob(expected, written);
        } catch (IOException | RuntimeException e) {
            deleteQuietly();
            throw e;
        } finally {
            if (ended.compareAndSet(false, true)) {
                target.finished(this, committed);
            }
        }
    }

    /** Drops what was written; nothing becomes visible. Safe to call more than once. */
    public void abort() {
        finished = true;
        abortQuietly();
    }

    private void abortQuietly() {
        deleteQuietly();
        if (ended.compareAndSet(false, true)) {
            target.finished(this, false);
        }
    }

    private void deleteQuietly() {
        try {
            channel.close();
        } catch (IOException ignored) {
            // closing a channel we are abandoning: nothing to do
        }
        try {
            java.nio.file.Files.deleteIfExists(path);
        } catch (IOException ignored) {
            // the start-up sweep of the ingest area removes it
        }
    }

    @Override
    public void close() {
        if (!finished) {
            abort();
        }
    }
}
