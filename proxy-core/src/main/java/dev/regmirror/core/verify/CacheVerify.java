package dev.regmirror.core.verify;

import dev.regmirror.core.blob.BlobStore;
import dev.regmirror.core.blob.ManifestStore;
import dev.regmirror.core.cache.CacheIndex;
import dev.regmirror.core.manifest.Descriptor;
import dev.regmirror.core.manifest.Manifests;
import dev.regmirror.core.reference.Digest;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedByInterruptException;
import java.security.MessageDigest;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One verify of the cache: re-hashes every blob the index holds (manifests' bytes too) at no more
 * than the configured rate, moves each whose bytes do not hash to its name into quarantine (see
 * {@link BlobStore#quarantine}), then checks that every cached manifest's bytes, blobs and index
 * children are in the cache, and lists what {@code ingest/} kept from before the start. Works on
 * any {@link BlobStore}: files on disk, or objects in a bucket read by streamed GETs. Blocking
 * storage I/O: run it on its own thread, never on an event loop or a shared disk thread.
 */
public final class CacheVerify {

    private static final Logger LOG = LoggerFactory.getLogger(CacheVerify.class);
    /** The most read at once; a low rate reads less at once, so it is kept smoothly rather than in bursts. */
    private static final int MAX_BUFFER = 256 * 1024;
    private static final int MIN_BUFFER = 4 * 1024;

    private final BlobStore blobs;
    private final ManifestStore manifests;
    private final long bytesPerSecond;
    private final Clock clock;
    private final LongSupplier nanoTime;
    private final ReadPacer.Sleeper sleeper;
    private final Counter corruptBlobs;

    /**
     * @param bytesPerSecond the most bytes read per second while hashing
     * @param metrics        where {@code regmirror.cache.corrupt.blobs} counts the corrupt blobs found
     */
    public CacheVerify(BlobStore blobs, ManifestStore manifests, long bytesPerSecond, Clock clock,
                       MeterRegistry metrics) {
        this(blobs, manifests, bytesPerSecond, clock, System::nanoTime, ReadPacer.THREAD_SLEEP, metrics);
    }

    CacheVerify(BlobStore blobs, ManifestStore manifests, long bytesPerSecond, Clock clock, LongSupplier nanoTime,
                ReadPacer.Sleeper sleeper, MeterRegistry metrics) {
        if (bytesPerSecond <= 0) {
            throw new IllegalArgumentException("bytesPerSecond must be positive");
        }
        this.blobs = blobs;
        this.manifests = manifests;
        this.bytesPerSecond = bytesPerSecond;
        this.clock = clock;
        this.nanoTime = nanoTime;
        this.sleeper = sleeper;
        this.corruptBlobs = Counter.builder("regmirror.cache.corrupt.blobs")
                .description("blobs a verify found corrupt in the cache and moved to quarantine").register(metrics);
    }

    /**
     * Runs the verify, reporting progress as it goes.
     *
     * @throws InterruptedException if the thread is interrupted (the server stops): what was moved aside stays moved
     * @throws IOException          if the cache cannot be read (not a blob's own damage, which is reported), or a
     *                              remote store fails a read midway
     */
    public VerifyReport run(VerifyProgress progress) throws IOException, InterruptedException {
        CacheIndex index = blobs.index();
        List<CacheIndex.Entry> entries = index.entries();
        long total = 0;
        for (CacheIndex.Entry entry : entries) {
            total += entry.size();
        }
        progress.planned(entries.size(), total);
        ReadPacer pacer = new ReadPacer(bytesPerSecond, nanoTime, sleeper);
        ByteBuffer buffer = ByteBuffer.allocate((int) Math.max(MIN_BUFFER, Math.min(MAX_BUFFER, bytesPerSecond / 16)));
        List<VerifyReport.Corrupt> corrupt = new ArrayList<>();
        int gone = 0;
        for (CacheIndex.Entry entry : entries) {
            if (Thread.interrupted()) {
                throw new InterruptedException("verify interrupted");
            }
            Optional<VerifyReport.Corrupt> found;
            try {
                found = check(entry.digest(), index.retained(entry.digest()), buffer, pacer, progress);
            } catch (Gone e) {
                gone++;
                progress.blobChecked();
                continue;
            }
            found.ifPresent(corrupt::add);
            progress.blobChecked();
        }
        Missing missing = checkManifests(index, progress);
        List<BlobStore.Leftover> leftovers = blobs.ingestLeftovers();
        return new VerifyReport(corrupt, missing.listed, missing.total, missing.hosted, gone, leftovers);
    }

    /**
     * Hashes one blob; a corrupt one, or one the local disk fails to read (an I/O error such as a
     * bad sector's EIO), is moved aside and returned. A remote store's failed read is its fault, not
     * the blob's: it ends the verify.
     */
    private Optional<VerifyReport.Corrupt> check(Digest digest, boolean hosted, ByteBuffer buffer, ReadPacer pacer,
                                                 VerifyProgress progress) throws IOException, InterruptedException, Gone {
        Optional<BlobStore.Checked> opened = blobs.openForCheck(digest);
        if (opened.isEmpty()) {
            throw new Gone();
        }
        MessageDigest hasher = digest.newHasher();
        try (BlobStore.Checked file = opened.get()) {
            String problem = null;
            try {
                while (true) {
                    buffer.clear();
                    int read = file.content().read(buffer);
                    if (read < 0) {
                        break;
                    }
                    buffer.flip();
                    hasher.update(buffer);
                    progress.hashed(read);
                    pacer.read(read);
                }
            } catch (ClosedByInterruptException e) {
                throw e;
            } catch (IOException e) {
                if (!file.readFailureIsDamage()) {
                    throw new IOException("read blob " + digest + " from the store: " + e.getMessage(), e);
                }
                problem = "unreadable: " + e;
            }
            if (problem == null) {
                if (digest.matches(hasher)) {
                    return Optional.empty();
                }
                problem = VerifyReport.Corrupt.MISMATCH;
            }
            Optional<String> moved = blobs.quarantine(digest, file.identity(), clock.instant());
            if (moved.isEmpty()) {
                // Removed or committed afresh while it was hashed: what is there now was not checked.
                throw new Gone();
            }
            corruptBlobs.increment();
            progress.corruptFound();
            if (hosted) {
                LOG.error("hosted blob {} is corrupt in the cache ({}): moved to {}; no upstream has it, push it again",
                        digest, problem, moved.get());
            } else {
                LOG.warn("blob {} is corrupt in the cache ({}): moved to {}; the next pull fetches it again", digest,
                        problem, moved.get());
            }
            return Optional.of(new VerifyReport.Corrupt(digest, file.size(), hosted, problem, moved.get()));
        }
    }

    /** Missing references found: the first ones listed, all counted. */
    private static final class Missing {
        final List<VerifyReport.Missing> listed = new ArrayList<>();
        int total;
        int hosted;

        void add(VerifyReport.Missing missing, VerifyProgress progress) {
            total++;
            if (missing.hosted()) {
                hosted++;
            }
            if (listed.size() < VerifyReport.MAX_LISTED) {
                listed.add(missing);
            }
            progress.missingFound();
        }
    }

    private Missing checkManifests(CacheIndex index, VerifyProgress progress) throws IOException, InterruptedException {
        List<Digest> all = manifests.digests();
        progress.manifestsPlanned(all.size());
        Missing missing = new Missing();
        for (Digest manifest : all) {
            if (Thread.interrupted()) {
                throw new InterruptedException("verify interrupted");
            }
            boolean hosted = index.retained(manifest);
            Optional<byte[]> bytes = blobs.peek(manifest);
            if (bytes.isEmpty()) {
                if (manifests.hasType(manifest)) {
                    missing.add(new VerifyReport.Missing(manifest, VerifyReport.Kind.manifest, manifest, hosted),
                            progress);
                }
                progress.manifestChecked();
                continue;
            }
            for (Descriptor child : Manifests.indexEntries(bytes.get())) {
                if (!manifests.hasType(child.digest()) || !blobs.has(child.digest())) {
                    missing.add(new VerifyReport.Missing(manifest, VerifyReport.Kind.child, child.digest(), hosted),
                            progress);
                }
            }
            for (Descriptor blob : Manifests.blobsOf(bytes.get())) {
                if (!blobs.has(blob.digest())) {
                    missing.add(new VerifyReport.Missing(manifest, VerifyReport.Kind.blob, blob.digest(), hosted),
                            progress);
                }
            }
            progress.manifestChecked();
        }
        return missing;
    }

    /** The blob went (evicted, purged, committed again) while it was checked. */
    private static final class Gone extends Exception {
        Gone() {
            super(null, null, false, false);
        }
    }
}
