package dev.regmirror.core.blob;

import dev.regmirror.core.reference.Digest;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The on-disk {@link BlobStore}: {@code blobs/<algorithm>/<first two hex>/<hex>} for committed
 * content, {@code ingest/} for partial writes, which are removed at start because nothing there
 * was ever visible. The directory is locked while the store is open: a second process would sweep
 * the first one's downloads.
 */
public final class FileBlobStore implements BlobStore, java.io.Closeable {

    private static final Logger LOG = LoggerFactory.getLogger(FileBlobStore.class);

    private final Path root;
    private final Path blobs;
    private final Path ingest;
    private final FileLock lock;

    private FileBlobStore(Path root, FileLock lock) {
        this.root = root;
        this.lock = lock;
        this.blobs = root.resolve("blobs");
        this.ingest = root.resolve("ingest");
    }

    /**
     * Opens (creating) a store under the directory and sweeps leftovers of interrupted writes. The
     * directory is locked for this process: a second one would sweep the first one's downloads.
     */
    public static FileBlobStore open(Path directory) throws IOException {
        Path root = directory.toAbsolutePath().normalize();
        Files.createDirectories(root);
        FileBlobStore store = new FileBlobStore(root, lock(root));
        Files.createDirectories(store.blobs);
        Files.createDirectories(store.ingest);
        int removed = store.sweepIngest();
        if (removed > 0) {
            LOG.info("removed {} unfinished downloads from {}", removed, store.ingest);
        }
        return store;
    }

    private static FileLock lock(Path root) throws IOException {
        FileChannel channel = FileChannel.open(root.resolve(".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null;
        }
        if (lock == null) {
            channel.close();
            throw new IOException("the cache directory " + root + " is in use by another regmirror process");
        }
        return lock;
    }

    /** Releases the directory for another process; the OS releases it too if this one dies. */
    @Override
    public void close() throws IOException {
        lock.channel().close();
    }

    public Path root() {
        return root;
    }

    @Override
    public Optional<StoredBlob> find(Digest digest) throws IOException {
        Path path = pathOf(digest);
        try {
            return Optional.of(new StoredBlob(digest, path, Files.size(path)));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    @Override
    public Optional<OpenBlob> open(Digest digest) throws IOException {
        Path path = pathOf(digest);
        FileChannel channel;
        try {
            channel = FileChannel.open(path, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
        return Optional.of(new OpenBlob(new StoredBlob(digest, path, channel.size()), channel));
    }

    @Override
    public BlobIngest begin(Digest expected, long expectedSize) throws IOException {
        Path path = ingest.resolve(expected.hex() + "-" + UUID.randomUUID());
        FileChannel channel = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        return new BlobIngest(this, expected, expectedSize, path, channel);
    }

    @Override
    public Optional<byte[]> readAll(Digest digest) throws IOException {
        try {
            return Optional.of(Files.readAllBytes(pathOf(digest)));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    @Override
    public StoredBlob put(Digest digest, byte[] bytes) throws IOException {
        try (BlobIngest ingest = begin(digest, bytes.length)) {
            ingest.write(java.nio.ByteBuffer.wrap(bytes));
            return ingest.commit();
        }
    }

    /** Moves a verified, synced ingest file under its digest; an existing blob counts as success. */
    StoredBlob commitIngest(Path ingestFile, Digest digest, long size) throws IOException {
        Path target = pathOf(digest);
        Files.createDirectories(target.getParent());
        try {
            Files.move(ingestFile, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("the cache directory " + root + " does not support atomic rename", e);
        }
        syncDirectory(target.getParent());
        return new StoredBlob(digest, target, size);
    }

    /** The path of a digest's blob; a validated digest cannot leave the store's directory. */
    Path pathOf(Digest digest) {
        Path path = blobs.resolve(digest.algorithm()).resolve(digest.hex().substring(0, 2)).resolve(digest.hex());
        if (!path.normalize().startsWith(blobs)) {
            throw new IllegalArgumentException("digest " + digest + " escapes the store");
        }
        return path;
    }

    private int sweepIngest() throws IOException {
        int removed = 0;
        try (DirectoryStream<Path> leftovers = Files.newDirectoryStream(ingest)) {
            for (Path leftover : leftovers) {
                Files.deleteIfExists(leftover);
                removed++;
            }
        }
        return removed;
    }

    private static void syncDirectory(Path directory) {
        try (FileChannel dir = FileChannel.open(directory, StandardOpenOption.READ)) {
            dir.force(true);
        } catch (IOException e) {
            // Some file systems cannot sync a directory; the file itself was synced.
            LOG.debug("could not sync directory {}: {}", directory, e.toString());
        }
    }
}
