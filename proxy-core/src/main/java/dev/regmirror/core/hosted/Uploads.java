package dev.regmirror.core.hosted;

import dev.regmirror.core.blob.BlobStore;
import dev.regmirror.core.blob.StoredBlob;
import dev.regmirror.core.error.InvalidRequestException;
import dev.regmirror.core.error.RegistryErrorCode;
import dev.regmirror.core.mirror.DigestLinks;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.upstream.Route;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.Lock;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The blob uploads of the hosted repositories, as the
 * <a href="https://github.com/opencontainers/distribution-spec/blob/v1.1.0/spec.md#pushing-blobs">push
 * API</a> has them: started, appended to in order (a chunk that does not start exactly at the
 * upload's end is refused with 416 and the {@code Range} the upload has), finished against the
 * digest the client names, cancelled, or given up when idle longer than the upload timeout. The
 * bytes go to {@code hosted/uploads/<id>/data} and through a running SHA-256, so finishing reads
 * nothing again; a verified upload is adopted by the same {@link BlobStore} the cache uses (renamed
 * into place on disk, sent to the bucket on S3: one blob per digest, however it came) and linked
 * into its repository. The upload's bytes are always on this machine. Uploads live in memory: those
 * left on disk by an earlier run are removed when this opens. Every method does disk I/O: call from
 * a disk executor.
 */
public final class Uploads {

    private static final Logger LOG = LoggerFactory.getLogger(Uploads.class);
    private static final String DATA = "data";

    private final HostedStore hosted;
    private final BlobStore blobs;
    private final Clock clock;
    private final Duration timeout;
    private final DigestLinks links;
    private final Map<UploadId, UploadState> uploads = new ConcurrentHashMap<>();
    private final Counter uploadedBytes;
    private final Counter uploadedBlobs;
    private final Counter mounts;
    private final Counter expired;

    /**
     * Opens the uploads of a hosted store, removing what an earlier run left in its uploads directory.
     *
     * @param timeout an upload without a request for this long is given up by {@link #sweep()}
     * @param meters  where {@code regmirror.hosted.upload.bytes}, {@code .upload.blobs},
     *                {@code regmirror.hosted.mounts} and {@code .uploads.expired} are counted
     */
    public Uploads(HostedStore hosted, BlobStore blobs, Clock clock, Duration timeout, MeterRegistry meters)
            throws IOException {
        this(hosted, blobs, clock, timeout, meters, DigestLinks.OPEN);
    }

    /** @param links which cached digests a mirrored repository holds, for a mount from it */
    public Uploads(HostedStore hosted, BlobStore blobs, Clock clock, Duration timeout, MeterRegistry meters,
                   DigestLinks links) throws IOException {
        this.links = links;
        this.hosted = hosted;
        this.blobs = blobs;
        this.clock = clock;
        this.timeout = timeout;
        this.uploadedBytes = Counter.builder("regmirror.hosted.upload.bytes").baseUnit("bytes")
                .description("bytes received in the bodies of blob uploads to hosted repositories").register(meters);
        this.uploadedBlobs = Counter.builder("regmirror.hosted.upload.blobs")
                .description("blob uploads to hosted repositories finished with their digest verified").register(meters);
        this.mounts = Counter.builder("regmirror.hosted.mounts")
                .description("blobs mounted into hosted repositories without an upload").register(meters);
        this.expired = Counter.builder("regmirror.hosted.uploads.expired")
                .description("uploads given up after the upload timeout, their bytes removed").register(meters);
        int removed = 0;
        try (DirectoryStream<Path> leftovers = Files.newDirectoryStream(hosted.uploads())) {
            for (Path leftover : leftovers) {
                delete(leftover);
                removed++;
            }
        }
        if (removed > 0) {
            LOG.info("removed {} uploads left unfinished by an earlier run", removed);
        }
    }

    /** Starts an empty upload to the repository. */
    public Upload start(Route route) throws IOException {
        UploadId id = UploadId.random();
        Path directory = hosted.upload(id);
        Files.createDirectories(directory);
        Path data = directory.resolve(DATA);
        Files.createFile(data);
        UploadState state = new UploadState(id, route, data, clock.instant());
        uploads.put(id, state);
        LOG.debug("upload {} to {} started", id, route);
        return state.upload();
    }

    /**
     * Where an upload stands.
     *
     * @throws InvalidRequestException BLOB_UPLOAD_UNKNOWN when no such upload is in progress there
     */
    public Upload status(Route route, UploadId id) {
        UploadState state = find(route, id);
        synchronized (state) {
            state.lastActivity = clock.instant();
            return state.upload();
        }
    }

    /**
     * Begins a chunk: at the upload's end when {@code contentRange} is empty, else at the first byte
     * it names, which must be exactly the upload's size.
     *
     * @param contentRange  the {@code Content-Range} header as sent ({@code <first>-<last>})
     * @param contentLength the body's declared length, which must agree with the range
     * @throws InvalidRequestException BLOB_UPLOAD_UNKNOWN for no such upload; RANGE_INVALID (416,
     *         with the upload's {@code Range}) for a chunk out of order, overlapping, or while
     *         another chunk of the upload is being written; BLOB_UPLOAD_INVALID for a range that
     *         cannot be read or disagrees with the length
     */
    public ChunkWriter chunk(Route route, UploadId id, Optional<String> contentRange, OptionalLong contentLength)
            throws IOException {
        UploadState state = find(route, id);
        OptionalLong expected = OptionalLong.empty();
        synchronized (state) {
            if (state.writing) {
                throw outOfOrder(state, "another chunk of upload " + id + " is being written");
            }
            if (contentRange.isPresent()) {
                ChunkRange range = ChunkRange.parse(contentRange.get());
                if (range.first() != state.size) {
                    throw outOfOrder(state, "a chunk of upload " + id + " from byte " + range.first()
                            + " does not follow its " + state.size + " bytes");
                }
                if (contentLength.isPresent() && contentLength.getAsLong() != range.length()) {
                    throw new InvalidRequestException(RegistryErrorCode.BLOB_UPLOAD_INVALID, "Content-Range " + range
                            + " is " + range.length() + " bytes but Content-Length says " + contentLength.getAsLong());
                }
                expected = OptionalLong.of(range.length());
            }
            state.writing = true;
            state.lastActivity = clock.instant();
        }
        try {
            return new AppendedChunk(state, expected, clock, uploadedBytes);
        } catch (IOException | RuntimeException e) {
            synchronized (state) {
                state.writing = false;
            }
            throw e;
        }
    }

    /**
     * Finishes an upload whose chunks are all written: checks its bytes against the digest, then
     * stores the blob and links it into the repository. The upload is over either way.
     *
     * @throws InvalidRequestException BLOB_UPLOAD_UNKNOWN for no such upload; DIGEST_INVALID when
     *         the bytes have another digest (they are removed); RANGE_INVALID while a chunk is
     *         still being written
     */
    public StoredBlob finish(Route route, UploadId id, Digest digest) throws IOException {
        UploadState state = find(route, id);
        Digest actual;
        synchronized (state) {
            if (state.gone) {
                throw unknown(route, id); // cancelled or expired meanwhile
            }
            if (state.writing) {
                throw outOfOrder(state, "a chunk of upload " + id + " is still being written");
            }
            state.gone = true;
            uploads.remove(id);
            actual = "sha256".equals(digest.algorithm()) ? new Digest("sha256", hex(state.sha256.digest())) : null;
        }
        Path directory = state.data.getParent();
        try {
            if (actual == null) {
                actual = digestOf(state.data, digest);
            }
            if (!actual.equals(digest)) {
                throw new InvalidRequestException(RegistryErrorCode.DIGEST_INVALID, "upload " + id + " to "
                        + route + " has digest " + actual + ", not " + digest, Map.of("digest", digest.toString()));
            }
            StoredBlob stored;
            // Under the push lock, so no prune runs between storing and linking; linked (and so
            // retained) before it is stored, so no eviction past the cap can take it meanwhile.
            Lock lock = hosted.pushLock().readLock();
            lock.lock();
            try {
                boolean linkedBefore = hosted.hasBlob(route, digest);
                hosted.linkBlob(route, digest);
                try {
                    stored = blobs.adopt(state.data, digest, state.size);
                } catch (IOException | RuntimeException e) {
                    if (!linkedBefore) {
                        hosted.unlinkBlob(route, digest);
                    }
                    throw e;
                }
            } finally {
                lock.unlock();
            }
            uploadedBlobs.increment();
            LOG.debug("upload {} to {} finished: {} ({} bytes)", id, route, digest.shortForm(), state.size);
            return stored;
        } finally {
            delete(directory);
        }
    }

    /**
     * Cancels an upload and removes its bytes.
     *
     * @throws InvalidRequestException BLOB_UPLOAD_UNKNOWN when no such upload is in progress there
     */
    public void cancel(Route route, UploadId id) throws IOException {
        UploadState state = find(route, id);
        synchronized (state) {
            if (state.gone) {
                throw unknown(route, id);
            }
            if (state.writing) {
                // Its bytes are being written on another thread: the chunk's own answer comes first.
                throw outOfOrder(state, "a chunk of upload " + id + " is being written; cancel it after");
            }
            state.gone = true;
            uploads.remove(id);
        }
        delete(state.data.getParent());
        LOG.debug("upload {} to {} cancelled", id, route);
    }

    /**
     * Mounts a blob into a repository without an upload, when it is stored and may be taken from
     * where the client says: from a hosted repository that links it, from a mirrored repository
     * the cached blob is linked to ({@link DigestLinks}: whoever may pull that repository may read
     * it), or, without {@code from}, when the target already links it. The caller has checked that
     * the pusher may pull {@code from}. An unlinked blob is not asked of the upstream here: the
     * client uploads it instead.
     *
     * @return the stored blob, now linked into {@code target}; empty when it cannot be mounted (the
     *         client is then given an ordinary upload)
     */
    public Optional<StoredBlob> mount(Route target, Digest digest, Optional<Route> from) throws IOException {
        // From a mirrored repository: cached content linked to it only. A digest hosted repositories
        // hold is not taken by naming a mirrored repository (which says nothing about who may read
        // it), nor one cached for another repository; the client uploads it instead, into the same
        // one file.
        boolean reachable;
        if (from.isEmpty()) {
            reachable = hosted.hasBlob(target, digest);
        } else {
            reachable = from.get().hosted() ? hosted.hasBlob(from.get(), digest)
                    : !hosted.isHosted(digest) && links.linked(from.get(), digest);
        }
        if (!reachable) {
            return Optional.empty();
        }
        // Under the push lock, so no prune removes the blob between finding and linking it.
        Lock lock = hosted.pushLock().readLock();
        lock.lock();
        try {
            hosted.retain(digest); // before it is looked up: an eviction chosen meanwhile keeps the file
            Optional<StoredBlob> stored = blobs.find(digest);
            if (stored.isPresent()) {
                hosted.linkBlob(target, digest);
                mounts.increment();
                LOG.debug("mounted {} into {} from {}", digest.shortForm(), target,
                        from.map(Route::toString).orElse("itself"));
            }
            return stored;
        } finally {
            lock.unlock();
        }
    }

    /** Gives up every upload idle longer than the timeout, removing its bytes; how many. */
    public int sweep() {
        Instant cutoff = clock.instant().minus(timeout);
        int removed = 0;
        for (UploadState state : uploads.values()) {
            synchronized (state) {
                if (state.writing || state.gone || !state.lastActivity.isBefore(cutoff)) {
                    continue;
                }
                state.gone = true;
                uploads.remove(state.id);
            }
            try {
                delete(state.data.getParent());
            } catch (IOException e) {
                LOG.warn("removing expired upload {}: {}", state.id, e.toString());
            }
            expired.increment();
            removed++;
            LOG.info("upload {} to {} expired after {} idle ({} bytes removed)", state.id, state.route, timeout,
                    state.size);
        }
        return removed;
    }

    /** Uploads in progress. */
    public int inProgress() {
        return uploads.size();
    }

    /** The upload, if it is in progress in that repository and not past its timeout. */
    private UploadState find(Route route, UploadId id) {
        UploadState state = uploads.get(id);
        if (state == null || !state.route.equals(route)) {
            throw unknown(route, id);
        }
        return state;
    }

    private static InvalidRequestException unknown(Route route, UploadId id) {
        return new InvalidRequestException(RegistryErrorCode.BLOB_UPLOAD_UNKNOWN, "no upload " + id + " to " + route
                + " is in progress (finished, cancelled or expired)");
    }

    /** 416 with the upload's {@code Range}, as the spec answers a chunk out of order. */
    private static InvalidRequestException outOfOrder(UploadState state, String message) {
        return new InvalidRequestException(RegistryErrorCode.RANGE_INVALID, message, null,
                Map.of("Range", state.upload().range(), "Docker-Upload-UUID", state.id.value()));
    }

    /** The digest of a file, of the algorithm {@code like} has: read again (only for sha512, which is not kept running). */
    private static Digest digestOf(Path file, Digest like) throws IOException {
        MessageDigest hasher = like.newHasher();
        ByteBuffer buffer = ByteBuffer.allocate(1 << 16);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            while (channel.read(buffer) >= 0) {
                buffer.flip();
                hasher.update(buffer);
                buffer.clear();
            }
        }
        return new Digest(like.algorithm(), hex(hasher.digest()));
    }

    private static String hex(byte[] bytes) {
        return java.util.HexFormat.of().formatHex(bytes);
    }

    private static void delete(Path directory) throws IOException {
        if (!Files.exists(directory)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(directory)) {
            for (Path path : (Iterable<Path>) paths.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(path);
            }
        }
    }
}
