package dev.regmirror.core.storage.s3;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.regmirror.core.blob.BlobIngest;
import dev.regmirror.core.blob.BlobStore;
import dev.regmirror.core.blob.BlobTooLargeException;
import dev.regmirror.core.blob.IngestTarget;
import dev.regmirror.core.blob.KeptFiles;
import dev.regmirror.core.blob.RelaySpools;
import dev.regmirror.core.blob.OpenBlob;
import dev.regmirror.core.blob.StoredBlob;
import dev.regmirror.core.cache.CacheIndex;
import dev.regmirror.core.mirror.Futures;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.storage.CacheLayout;
import dev.regmirror.core.storage.StoreChanges;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;

/**
 * The {@link BlobStore} in an S3-compatible bucket, under the same names as on disk
 * ({@code blobs/<alg>/<first two hex>/<hex>} below the configured prefix). A blob being fetched
 * is spooled in the local {@code ingest/} directory, where its readers follow it as today, and is
 * sent to the bucket part by part meanwhile ({@link S3SpoolUpload}); it appears in the bucket only
 * once verified. The spool of a committed blob stays a minute for readers that joined its fill
 * late, then goes. Hits are read from the bucket by range. The index (sizes, recency, pins) is
 * built from a listing at start and learns of blobs other nodes stored when they are asked for;
 * past {@code cache.max-size} the least recently used unpinned blobs are deleted from the bucket.
 * Calls block on the network: run them on the storage threads.
 */
public final class S3BlobStore implements BlobStore {

    private static final Logger LOG = LoggerFactory.getLogger(S3BlobStore.class);
    private static final String CONTENT_TYPE = "application/octet-stream";
    /** How long the spool of a committed blob is kept for readers that joined its fill late. */
    static final Duration SPOOL_KEPT = Duration.ofMinutes(1);
    /**
     * How long a HEAD's "not in the bucket" is believed without asking again: a miss looks the
     * blob up before it joins or starts a fill, and the fill looks again in case another fill
     * committed meanwhile; this node's commits are in the index, which is asked first, so the
     * second look needs no round trip. Another node's commit within this time costs one fetch more.
     */
    static final Duration ABSENT_KEPT = Duration.ofSeconds(5);
    /** The longest a blob's final part and completion may take before its commit fails. */
    private static final Duration COMPLETE_TIMEOUT = Duration.ofMinutes(10);

    private final S3Objects objects;
    private final CacheLayout layout;
    private final long partSize;
    private final Executor uploads;
    private final Clock clock;
    private final CacheIndex index;
    private final KeptFiles kept;
    private final AtomicLong evictions = new AtomicLong();
    private final Optional<Duration> redirectTtl;
    /** Where this node tells the others sharing the bucket what it stored and deleted; empty when alone. */
    private final Optional<StoreChanges> changes;
    private final Instant opened;
    /** Digests a HEAD found absent lately; see {@link #ABSENT_KEPT}. */
    private final Cache<Digest, Boolean> absent;
    private final UploadRecords records;
    private final RelaySpools relays;

    private S3BlobStore(S3Objects objects, CacheLayout layout, long partSize, Executor uploads, Clock clock,
                        CacheIndex index, Optional<Duration> redirectTtl, Optional<StoreChanges> changes,
                        UploadRecords records) {
        this.redirectTtl = redirectTtl;
        this.changes = changes;
        this.records = records;
        this.objects = objects;
        this.layout = layout;
        this.partSize = partSize;
        this.uploads = uploads;
        this.clock = clock;
        this.kept = new KeptFiles(clock, SPOOL_KEPT);
        this.index = index;
        this.opened = clock.instant();
        this.relays = new RelaySpools(layout, clock);
        this.absent = Caffeine.newBuilder().expireAfterWrite(ABSENT_KEPT).maximumSize(10_000)
                .ticker(() -> TimeUnit.MILLISECONDS.toNanos(clock.millis())).build();
    }

    /**
     * Opens the store: aborts the multipart uploads an earlier run of this node left unfinished
     * ({@link UploadRecords}), lists the blobs in the bucket into the index (least recently written
     * first) and creates the local spool directory. Does not evict: see {@link #evictOverCap()}.
     *
     * @param uploads     where part uploads run, one request at a time per blob
     * @param redirectTtl the life of the presigned URLs hits may be redirected to; empty to stream every hit
     */
    public static S3BlobStore open(S3Objects objects, CacheLayout layout, long maxBytes, long partSize,
                                   Executor uploads, Clock clock, Optional<Duration> redirectTtl) throws IOException {
        return open(objects, layout, maxBytes, partSize, uploads, clock, redirectTtl, Optional.empty());
    }

    /**
     * Opens the store as {@link #open(S3Objects, CacheLayout, long, long, Executor, Clock, Optional)},
     * telling the other nodes sharing the bucket what it stores and deletes through {@code changes}.
     */
    public static S3BlobStore open(S3Objects objects, CacheLayout layout, long maxBytes, long partSize,
                                   Executor uploads, Clock clock, Optional<Duration> redirectTtl,
                                   Optional<StoreChanges> changes) throws IOException {
        Files.createDirectories(layout.ingest());
        long started = System.nanoTime();
        UploadRecords records = UploadRecords.of(layout);
        try {
            records.abortLeftovers(objects);
        } catch (S3StoreException e) {
            LOG.warn("aborting the uploads this node left unfinished: {}", e.getMessage());
        }
        CacheIndex index = CacheIndex.of(maxBytes, listBlobs(objects, layout));
        LOG.info("indexed {} blobs ({} bytes) in {} in {} ms", index.size(), index.totalBytes(), objects.describe(),
                (System.nanoTime() - started) / 1_000_000);
        return new S3BlobStore(objects, layout, partSize, uploads, clock, index, redirectTtl, changes, records);
    }

    private static List<CacheIndex.Stored> listBlobs(S3Objects objects, CacheLayout layout) throws IOException {
        List<CacheIndex.Stored> found = new ArrayList<>();
        String prefix = layout.key(layout.blobs()) + "/";
        try {
            for (S3Objects.ObjectInfo object : objects.list(prefix)) {
                Optional<Digest> digest = CacheLayout.blobDigest(Path.of(object.key().substring(prefix.length())));
                if (digest.isPresent()) {
                    found.add(new CacheIndex.Stored(digest.get(), object.size(), object.lastModified()));
                }
            }
        } catch (S3StoreException e) {
            throw new IOException(e.getMessage(), e);
        }
        return found;
    }

    /**
     * Another node stored the blob: indexed (so the cap and the usage count it) once the bucket
     * confirms it holds it, which a purge since may have undone.
     */
    public void learnStored(Digest digest) throws IOException {
        if (index.contains(digest)) {
            return;
        }
        try {
            absent.invalidate(digest);
            objects.head(key(digest)).ifPresent(head -> index.add(digest, head.size()));
        } catch (S3StoreException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    /**
     * Another node deleted the blob: out of the index, so nothing answers from memory that it is
     * here (a blob stored again since is found again by its HEAD, when asked for).
     */
    public void learnDeleted(Digest digest) {
        index.remove(digest);
    }

    /** Makes the index what the bucket holds: blobs missing are added, blobs gone are removed. */
    public void relist() throws IOException {
        List<CacheIndex.Stored> found = listBlobs(objects, layout);
        java.util.Set<Digest> present = new java.util.HashSet<>();
        for (CacheIndex.Stored stored : found) {
            present.add(stored.digest());
            if (!index.contains(stored.digest())) {
                index.add(stored.digest(), stored.size());
            }
        }
        for (CacheIndex.Entry entry : index.entries()) {
            if (!present.contains(entry.digest())) {
                index.remove(entry.digest());
            }
        }
    }

    /** The index of stored blobs: sizes, recency, pins. */
    @Override
    public CacheIndex index() {
        return index;
    }

    /** How many blobs were evicted since start. */
    @Override
    public long evictions() {
        return evictions.get();
    }

    /** The bucket's key of a blob. */
    String key(Digest digest) {
        return layout.key(layout.blob(digest));
    }

    @Override
    public Optional<StoredBlob> find(Digest digest) throws IOException {
        sweepKept();
        OptionalLong known = index.sizeOf(digest);
        if (known.isPresent()) {
            return Optional.of(new StoredBlob(digest, known.getAsLong()));
        }
        if (absent.getIfPresent(digest) != null) {
            return Optional.empty();
        }
        try {
            // Stored by another node, or before this one started.
            Optional<S3Objects.ObjectInfo> head = objects.head(key(digest));
            if (head.isEmpty()) {
                absent.put(digest, Boolean.TRUE);
                return Optional.empty();
            }
            index.add(digest, head.get().size());
            return Optional.of(new StoredBlob(digest, head.get().size()));
        } catch (S3StoreException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    @Override
    public Optional<OpenBlob> open(Digest digest) throws IOException {
        Optional<StoredBlob> found = find(digest);
        if (found.isEmpty()) {
            return Optional.empty();
        }
        index.pin(digest);
        AtomicBoolean released = new AtomicBoolean();
        String key = key(digest);
        OpenBlob.RangeReader reader = (first, last) -> {
            try {
                return objects.open(key, first, last).orElseThrow(() -> new NoSuchFileException(
                        "blob " + digest + " is no longer in " + objects.describe()));
            } catch (S3StoreException e) {
                throw new IOException(e.getMessage(), e);
            }
        };
        Optional<java.util.function.Supplier<java.net.URI>> redirect = redirectTtl.map(ttl -> () -> objects.presign(key, ttl));
        return Optional.of(new OpenBlob(found.get(), new OpenBlob.Remote(reader, redirect), () -> {
            if (released.compareAndSet(false, true)) {
                index.unpin(digest);
            }
        }));
    }

    /**
     * {@inheritDoc}
     *
     * @throws BlobTooLargeException when a cap is set and the declared size exceeds it
     */
    @Override
    public BlobIngest begin(Digest expected, long expectedSize) throws IOException {
        if (index.maxBytes() > 0 && expectedSize > index.maxBytes()) {
            throw new BlobTooLargeException(expected, expectedSize, index.maxBytes());
        }
        sweepKept();
        Path spool = layout.scratchFile(expected.hex());
        FileChannel channel = FileChannel.open(spool, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        S3SpoolUpload upload = new S3SpoolUpload(objects, key(expected), spool, partSize, uploads, records);
        return new BlobIngest(new Target(upload), expected, expectedSize, spool, channel);
    }

    @Override
    public BlobIngest beginRelay(Digest expected, long expectedSize) throws IOException {
        sweepKept();
        return relays.begin(expected, expectedSize);
    }

    /** One blob's way into the bucket: its parts follow the writes, the upload completes at the commit. */
    private final class Target implements IngestTarget {

        private final S3SpoolUpload upload;

        Target(S3SpoolUpload upload) {
            this.upload = upload;
        }

        @Override
        public void written(long total) {
            upload.written(total);
        }

        @Override
        public Path commit(Path file, Digest digest, long size) throws IOException {
            await(upload.complete(size), "store blob " + digest.shortForm());
            index.add(digest, size);
            changes.ifPresent(log -> log.stored(digest, size));
            absent.invalidate(digest);
            keep(file);
            evictOverCap();
            return file;
        }

        @Override
        public void finished(BlobIngest ingest, boolean committed) {
            if (!committed) {
                upload.abort();
            }
        }
    }

    @Override
    public Optional<byte[]> readAll(Digest digest) throws IOException {
        try {
            Optional<byte[]> bytes = objects.read(key(digest));
            bytes.ifPresent(b -> index.add(digest, b.length));
            return bytes;
        } catch (S3StoreException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    @Override
    public Optional<byte[]> peek(Digest digest) throws IOException {
        try {
            return objects.read(key(digest));
        } catch (S3StoreException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    @Override
    public StoredBlob put(Digest digest, byte[] bytes) throws IOException {
        try {
            objects.write(key(digest), bytes, CONTENT_TYPE);
        } catch (S3StoreException e) {
            throw new IOException(e.getMessage(), e);
        }
        index.add(digest, bytes.length);
        changes.ifPresent(log -> log.stored(digest, bytes.length));
        absent.invalidate(digest);
        evictOverCap();
        return new StoredBlob(digest, bytes.length);
    }

    /**
     * {@inheritDoc} The file is sent to the bucket (in parts when it is large) and then removed.
     *
     * @throws BlobTooLargeException when a cap is set and the blob exceeds it
     */
    @Override
    public StoredBlob adopt(Path file, Digest digest, long size) throws IOException {
        if (index.maxBytes() > 0 && size > index.maxBytes() && !index.retained(digest)) {
            throw new BlobTooLargeException(digest, size, index.maxBytes());
        }
        try {
            if (find(digest).isEmpty()) {
                S3SpoolUpload upload = new S3SpoolUpload(objects, key(digest), file, partSize, Runnable::run,
                        records);
                await(upload.complete(size), "store blob " + digest.shortForm());
                index.add(digest, size);
                changes.ifPresent(log -> log.stored(digest, size));
                absent.invalidate(digest);
            }
        } finally {
            Files.deleteIfExists(file);
        }
        evictOverCap();
        return new StoredBlob(digest, size);
    }

    /** Removes a blob from the bucket and the index; the size removed, empty if it was not there. */
    @Override
    public Optional<Long> delete(Digest digest) throws IOException {
        Optional<StoredBlob> found = find(digest);
        index.remove(digest);
        try {
            objects.delete(key(digest));
        } catch (S3StoreException e) {
            throw new IOException(e.getMessage(), e);
        }
        changes.ifPresent(log -> log.deleted(digest));
        return found.map(StoredBlob::size);
    }

    /** Deletes the least recently used blobs, none of them pinned or retained, until the cap holds. */
    public void evictOverCap() {
        for (CacheIndex.Entry entry : index.evictOverCap()) {
            if (index.contains(entry.digest()) || index.retained(entry.digest())) {
                continue;
            }
            try {
                objects.delete(key(entry.digest()));
                changes.ifPresent(log -> log.deleted(entry.digest()));
                evictions.incrementAndGet();
                LOG.debug("evicted {} ({} bytes)", entry.digest().shortForm(), entry.size());
            } catch (S3StoreException e) {
                LOG.warn("evicting {}: {}", entry.digest().shortForm(), e.getMessage());
            }
        }
    }

    /**
     * Aborts the multipart uploads in the bucket started before {@code cutoff}: those of a node
     * that died mid-upload. Returns how many.
     */
    public int abortLeftoverUploads(Instant cutoff) throws IOException {
        try {
            return objects.abortUploadsStartedBefore(cutoff);
        } catch (S3StoreException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    /**
     * {@inheritDoc} One streamed GET of the whole object; the identity is its entity tag. A read
     * that fails is the network's or the store's fault, not the blob's.
     */
    @Override
    public Optional<Checked> openForCheck(Digest digest) throws IOException {
        Optional<ResponseInputStream<GetObjectResponse>> found;
        try {
            found = objects.openWhole(key(digest));
        } catch (S3StoreException e) {
            throw new IOException(e.getMessage(), e);
        }
        if (found.isEmpty()) {
            return Optional.empty();
        }
        ResponseInputStream<GetObjectResponse> body = found.get();
        GetObjectResponse response = body.response();
        InputStream whole = new FilterInputStream(body) {
            private boolean ended;

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                int read = super.read(b, off, len);
                ended |= read < 0;
                return read;
            }

            @Override
            public void close() throws IOException {
                if (!ended) {
                    body.abort(); // not drained to the end: an interrupted or failed check
                }
                super.close();
            }
        };
        return Optional.of(new Checked(Channels.newChannel(whole), response.eTag(), response.contentLength(), false));
    }

    /** {@inheritDoc} A HEAD of the object. */
    @Override
    public boolean has(Digest digest) throws IOException {
        try {
            return objects.head(key(digest)).isPresent();
        } catch (S3StoreException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    /**
     * {@inheritDoc} A bucket cannot rename: the object is copied to its quarantine key only if it
     * still has the entity tag that was checked, then deleted. A node storing the same digest again
     * between the copy and the delete would lose that copy, and fetch it again on its next pull.
     */
    @Override
    public Optional<String> quarantine(Digest digest, Object identity, Instant at) throws IOException {
        String target = layout.key(layout.quarantined(digest, at));
        try {
            if (!objects.copyIfMatch(key(digest), target, (String) identity)) {
                return Optional.empty();
            }
            index.remove(digest);
            objects.delete(key(digest));
        } catch (S3StoreException e) {
            throw new IOException(e.getMessage(), e);
        }
        return Optional.of(objects.url(target));
    }

    /** {@inheritDoc} The local spool directory's. */
    @Override
    public List<Leftover> ingestLeftovers() throws IOException {
        return Leftover.in(layout.ingest(), opened);
    }

    /** Opens a stream of a whole stored blob, for reading it through (a check, an export). */
    public Optional<InputStream> openStream(Digest digest) throws IOException {
        Optional<StoredBlob> found = find(digest);
        if (found.isEmpty() || found.get().size() == 0) {
            return found.map(empty -> InputStream.nullInputStream());
        }
        try {
            return objects.open(key(digest), 0, found.get().size() - 1).map(in -> (InputStream) in);
        } catch (S3StoreException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    private void keep(Path spool) {
        kept.keep(spool);
    }

    /** Removes the spools of committed blobs whose minute is over. */
    private void sweepKept() {
        kept.sweep();
    }

    private static void await(java.util.concurrent.CompletableFuture<Void> done, String what) throws IOException {
        try {
            done.get(COMPLETE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(what + ": interrupted", e);
        } catch (TimeoutException e) {
            throw new IOException(what + ": the store took longer than " + COMPLETE_TIMEOUT, e);
        } catch (java.util.concurrent.ExecutionException e) {
            Throwable cause = Futures.unwrap(e);
            throw new IOException(what + ": " + cause.getMessage(), cause);
        }
    }
}
