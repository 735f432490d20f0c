package dev.regmirror.core.blob;

import dev.regmirror.core.cache.CacheIndex;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.storage.CacheLayout;
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
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The on-disk {@link BlobStore}: {@code blobs/<algorithm>/<first two hex>/<hex>} for committed
 * content, {@code ingest/} for partial writes, which are removed at start because nothing there
 * was ever visible, and {@code quarantine/<algorithm>/<hex>-<time>} for blobs a verify found
 * corrupt, moved aside and never served again. The directory is locked while the store is open: a second process would sweep
 * the first one's downloads. With a cap, the least recently used unpinned blobs are evicted after
 * each commit past it; recency is kept in the files' modification times across restarts.
 */
public final class FileBlobStore implements BlobStore, IngestTarget, java.io.Closeable {

    private static final Logger LOG = LoggerFactory.getLogger(FileBlobStore.class);
    private static final Duration TOUCH_INTERVAL = Duration.ofHours(1);
    /**
     * Bytes a blob of declared size must leave free on the file system, beside those promised to
     * downloads in progress: room for manifests, tag files and the file system's own blocks.
     */
    static final long HEADROOM = 1024 * 1024;

    private final CacheLayout layout;
    private final Path root;
    private final Path blobs;
    private final Path ingest;
    private final Path quarantine;
    private final FileLock lock;
    private final Instant opened = Instant.now();
    private CacheIndex index;
    private final AtomicLong evictions = new AtomicLong();
    /**
     * Held while a blob's file and its index entry change together (commit, delete, eviction), so
     * a delete racing a commit of the same digest cannot leave an entry without its file or a file
     * without its entry. Held only for a rename or an unlink.
     */
    private final Object files = new Object();
    /** Ingests of a declared size not yet committed or aborted: what they still have to write is promised. */
    private final Set<BlobIngest> writing = new HashSet<>();
    private final RelaySpools relays;

    private FileBlobStore(CacheLayout layout, FileLock lock) {
        this.layout = layout;
        this.root = layout.root();
        this.lock = lock;
        this.blobs = layout.blobs();
        this.ingest = layout.ingest();
        this.quarantine = layout.quarantine();
        this.relays = new RelaySpools(layout, java.time.Clock.systemUTC());
    }

    /**
     * Opens (creating) a store under the directory and sweeps leftovers of interrupted writes. The
     * directory is locked for this process: a second one would sweep the first one's downloads.
     */
    public static FileBlobStore open(Path directory) throws IOException {
        return open(directory, 0);
    }

    /**
     * Opens the store with a cap of {@code maxBytes} (0: none): indexes what is on disk, least
     * recently used first by file time, and evicts at once if the cap is already exceeded.
     */
    public static FileBlobStore open(Path directory, long maxBytes) throws IOException {
        FileBlobStore store = openUnevicted(directory, maxBytes);
        store.evictOverCap();
        return store;
    }

    /**
     * Opens the store as {@link #open(Path, long)} does, without evicting: for a caller that first
     * retains what must never be evicted (hosted content, which the cap does not count), then calls
     * {@link #evictOverCap()}. Evicting first would take hosted blobs for cached ones.
     */
    public static FileBlobStore openUnevicted(Path directory, long maxBytes) throws IOException {
        return openUnevicted(new CacheLayout(directory), maxBytes);
    }

    /** As {@link #openUnevicted(Path, long)}, for the cache of that layout. */
    public static FileBlobStore openUnevicted(CacheLayout layout, long maxBytes) throws IOException {
        Files.createDirectories(layout.root());
        FileBlobStore store = new FileBlobStore(layout, lock(layout));
        Files.createDirectories(store.blobs);
        Files.createDirectories(store.ingest);
        int removed = store.sweepIngest();
        if (removed > 0) {
            LOG.info("removed {} unfinished downloads from {}", removed, store.ingest);
        }
        long started = System.nanoTime();
        store.index = CacheIndex.of(maxBytes, store.scan());
        LOG.info("indexed {} blobs ({} bytes) in {} ms", store.index.size(), store.index.totalBytes(),
                (System.nanoTime() - started) / 1_000_000);
        return store;
    }

    /**
     * Locks a cache directory whose blobs live elsewhere (an object store) and sweeps its
     * {@code ingest/} spool, as opening a store here does; closing releases the lock.
     */
    public static java.io.Closeable claimSpool(CacheLayout layout) throws IOException {
        Files.createDirectories(layout.ingest());
        FileLock lock = lock(layout);
        int removed = 0;
        try (DirectoryStream<Path> leftovers = Files.newDirectoryStream(layout.ingest())) {
            for (Path leftover : leftovers) {
                Files.deleteIfExists(leftover);
                removed++;
            }
        }
        if (removed > 0) {
            LOG.info("removed {} unfinished downloads from {}", removed, layout.ingest());
        }
        return () -> lock.channel().close();
    }

    /** Evicts the least recently used blobs, none of them retained, until the cap holds. */
    public void evictOverCap() {
        evict();
    }

    /** The index of committed blobs: sizes, recency, pins. */
    @Override
    public CacheIndex index() {
        return index;
    }

    /** How many blobs were evicted since start. */
    @Override
    public long evictions() {
        return evictions.get();
    }

    private static FileLock lock(CacheLayout layout) throws IOException {
        Path root = layout.root();
        FileChannel channel = FileChannel.open(layout.lockFile(), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
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

    /** The layout of the cache this store is part of. */
    public CacheLayout layout() {
        return layout;
    }

    @Override
    public Optional<StoredBlob> find(Digest digest) throws IOException {
        Path path = pathOf(digest);
        try {
            StoredBlob blob = new StoredBlob(digest, Files.size(path));
            used(blob);
            return Optional.of(blob);
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
        StoredBlob blob = new StoredBlob(digest, channel.size());
        index.pin(digest);
        used(blob);
        java.util.concurrent.atomic.AtomicBoolean released = new java.util.concurrent.atomic.AtomicBoolean();
        return Optional.of(new OpenBlob(blob, channel, () -> {
            if (released.compareAndSet(false, true)) {
                index.unpin(digest);
            }
        }));
    }

    /**
     * {@inheritDoc}
     *
     * <p>A blob of declared size is only begun when the file system has room for it beside what
     * the downloads in progress still have to write, and {@link #HEADROOM} more: a disk that
     * fills halfway through a download would cut off every response following it.
     *
     * @throws BlobTooLargeException when a cap is set and the declared size exceeds it
     * @throws DiskFullException     when the file system has no room for the declared size
     */
    @Override
    public BlobIngest begin(Digest expected, long expectedSize) throws IOException {
        return begin(expected, expectedSize, true);
    }

    private BlobIngest begin(Digest expected, long expectedSize, boolean checkSpace) throws IOException {
        if (index.maxBytes() > 0 && expectedSize > index.maxBytes()) {
            throw new BlobTooLargeException(expected, expectedSize, index.maxBytes());
        }
        Path path = layout.scratchFile(expected.hex());
        if (expectedSize < 0 || !checkSpace) {
            FileChannel channel = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
            return new BlobIngest(this, expected, expectedSize, path, channel);
        }
        synchronized (writing) {
            long reserved = writing.stream().mapToLong(BlobIngest::unwritten).sum();
            long usable = Files.getFileStore(ingest).getUsableSpace();
            if (usable - reserved - expectedSize < HEADROOM) {
                throw new DiskFullException(expected, expectedSize, usable, reserved);
            }
            FileChannel channel = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
            BlobIngest begun = new BlobIngest(this, expected, expectedSize, path, channel);
            writing.add(begun);
            return begun;
        }
    }

    @Override
    public BlobIngest beginRelay(Digest expected, long expectedSize) throws IOException {
        return relays.begin(expected, expectedSize);
    }

    /** The ingest was committed or aborted: what it had still to write is no longer promised. */
    @Override
    public void finished(BlobIngest done, boolean committed) {
        synchronized (writing) {
            writing.remove(done);
        }
    }

    @Override
    public Optional<byte[]> readAll(Digest digest) throws IOException {
        try {
            byte[] bytes = Files.readAllBytes(pathOf(digest));
            index.touch(digest);
            return Optional.of(bytes);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    @Override
    public StoredBlob put(Digest digest, byte[] bytes) throws IOException {
        // Small content (manifests) may use the headroom that blobs of declared size leave free.
        try (BlobIngest ingest = begin(digest, bytes.length, false)) {
            ingest.write(java.nio.ByteBuffer.wrap(bytes));
            return ingest.commit();
        }
    }

    /**
     * {@inheritDoc}
     *
     * @throws BlobTooLargeException when a cap is set and the blob exceeds it
     */
    @Override
    public StoredBlob adopt(Path file, Digest digest, long size) throws IOException {
        // A retained blob (hosted content, linked before it is adopted) is not counted against the cap.
        if (index.maxBytes() > 0 && size > index.maxBytes() && !index.retained(digest)) {
            throw new BlobTooLargeException(digest, size, index.maxBytes());
        }
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            channel.force(true);
        }
        Path target = pathOf(digest);
        synchronized (files) {
            if (Files.isRegularFile(target)) {
                Files.deleteIfExists(file);
                index.add(digest, size);
                return new StoredBlob(digest, size);
            }
        }
        commit(file, digest, size);
        return new StoredBlob(digest, size);
    }

    /** Moves a verified, synced ingest file under its digest; an existing blob counts as success. */
    @Override
    public Path commit(Path ingestFile, Digest digest, long size) throws IOException {
        Path target = pathOf(digest);
        Files.createDirectories(target.getParent());
        synchronized (files) {
            try {
                Files.move(ingestFile, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("the cache directory " + root + " does not support atomic rename", e);
            }
            index.add(digest, size);
        }
        syncDirectory(target.getParent());
        evict();
        return target;
    }

    /**
     * Removes a committed blob: out of the index, then its file. Channels already open on it keep
     * reading the unlinked file to the end (POSIX), so a response in progress completes; a fill of
     * the same digest that commits later simply caches it again. Returns the size removed, or empty
     * if the blob was not there.
     */
    @Override
    public Optional<Long> delete(Digest digest) throws IOException {
        Path path = pathOf(digest);
        synchronized (files) {
            long size;
            try {
                size = Files.size(path);
            } catch (NoSuchFileException e) {
                index.remove(digest);
                return Optional.empty();
            }
            index.remove(digest);
            return Files.deleteIfExists(path) ? Optional.of(size) : Optional.empty();
        }
    }

    /** {@inheritDoc} The identity is the file's key (device and inode); a read error is the disk's damage. */
    @Override
    public Optional<Checked> openForCheck(Digest digest) throws IOException {
        Path path = pathOf(digest);
        try {
            Object key = Files.readAttributes(path, BasicFileAttributes.class).fileKey();
            FileChannel channel = FileChannel.open(path, StandardOpenOption.READ);
            return Optional.of(new Checked(channel, key, channel.size(), true));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    /** A committed blob's bytes read whole without marking it used (an inventory or a check); empty if absent. */
    @Override
    public Optional<byte[]> peek(Digest digest) throws IOException {
        try {
            return Optional.of(Files.readAllBytes(pathOf(digest)));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    /** Whether a committed blob's file is there, without marking it used. */
    @Override
    public boolean has(Digest digest) {
        return Files.isRegularFile(pathOf(digest));
    }

    /**
     * {@inheritDoc} On disk it is a rename to {@code quarantine/<algorithm>/<hex>-<time>}: a client
     * reading the blob keeps its open file (POSIX). Disk I/O.
     */
    @Override
    public Optional<String> quarantine(Digest digest, Object identity, Instant at) throws IOException {
        Path path = pathOf(digest);
        Path target = layout.quarantined(digest, at);
        Files.createDirectories(target.getParent());
        synchronized (files) {
            Object now;
            try {
                now = Files.readAttributes(path, BasicFileAttributes.class).fileKey();
            } catch (NoSuchFileException e) {
                return Optional.empty();
            }
            if (!Objects.equals(now, identity)) {
                return Optional.empty();
            }
            Files.move(path, target, StandardCopyOption.ATOMIC_MOVE);
            index.remove(digest);
        }
        syncDirectory(target.getParent());
        return Optional.of(target.toString());
    }

    /** Where corrupt blobs are moved: {@code <cache>/quarantine}. */
    public Path quarantineDirectory() {
        return quarantine;
    }

    @Override
    public List<Leftover> ingestLeftovers() throws IOException {
        return Leftover.in(ingest, opened);
    }

    /** When this store was opened: ingest files older than that were not written by this process. */
    public Instant opened() {
        return opened;
    }

    /** Deletes what the index picks past the cap. */
    private void evict() {
        for (CacheIndex.Entry entry : index.evictOverCap()) {
            try {
                synchronized (files) {
                    // Retained meanwhile (a push linked it) or committed again: the file stays.
                    if (!index.contains(entry.digest()) && !index.retained(entry.digest())) {
                        Files.deleteIfExists(pathOf(entry.digest()));
                    }
                }
                evictions.incrementAndGet();
                LOG.debug("evicted {} ({} bytes)", entry.digest().shortForm(), entry.size());
            } catch (IOException e) {
                LOG.warn("evicting {}: {}", entry.digest().shortForm(), e.toString());
            }
        }
    }

    /** Marks a hit in the index, and on disk at most hourly, so recency survives a restart. */
    private void used(StoredBlob blob) throws IOException {
        index.touch(blob.digest());
        FileTime now = FileTime.from(Instant.now());
        Path path = pathOf(blob.digest());
        FileTime last = Files.getLastModifiedTime(path);
        if (now.toMillis() - last.toMillis() > TOUCH_INTERVAL.toMillis()) {
            Files.setLastModifiedTime(path, now);
        }
    }

    /** Every committed blob on disk with its size and last use; anything not named like a digest is skipped. */
    private List<CacheIndex.Stored> scan() throws IOException {
        List<CacheIndex.Stored> found = new ArrayList<>();
        try (Stream<Path> files = Files.walk(blobs, 3)) {
            for (Path file : (Iterable<Path>) files::iterator) {
                Path relative = blobs.relativize(file);
                if (relative.getNameCount() != 3) {
                    continue;
                }
                Optional<Digest> digest = CacheLayout.blobDigest(relative);
                if (digest.isEmpty()) {
                    LOG.debug("skipping {} in the blob store", file);
                    continue;
                }
                BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
                if (attributes.isRegularFile()) {
                    found.add(new CacheIndex.Stored(digest.get(), attributes.size(),
                            attributes.lastModifiedTime().toInstant()));
                }
            }
        }
        return found;
    }

    /** The path of a digest's blob; a validated digest cannot leave the store's directory. */
    public Path pathOf(Digest digest) {
        return layout.blob(digest);
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
