package dev.regmirror.core.mirror;

import dev.regmirror.core.manifest.Descriptor;
import dev.regmirror.core.reference.Digest;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * How far one {@link Prefetch} has come, safe to read from any thread while it runs: the digest
 * the image resolved to, the blobs planned, and the bytes in the cache so far, counting the part of
 * each running download already on disk.
 */
public final class PrefetchProgress {

    private volatile Digest digest;
    private volatile long bytesTotal;
    private volatile int blobsTotal;
    private final AtomicLong bytesOfDoneBlobs = new AtomicLong();
    private final AtomicInteger blobsDone = new AtomicInteger();
    private final AtomicInteger blobsAlreadyCached = new AtomicInteger();
    private final Set<BlobFill> following = ConcurrentHashMap.newKeySet();

    /** The digest the image's tag resolved to (or was asked for), once the manifest is in the cache. */
    public Optional<Digest> digest() {
        return Optional.ofNullable(digest);
    }

    public long bytesTotal() {
        return bytesTotal;
    }

    public int blobsTotal() {
        return blobsTotal;
    }

    public int blobsDone() {
        return blobsDone.get();
    }

    /** Of the blobs done, how many were in the cache before (no upstream request for them). */
    public int blobsAlreadyCached() {
        return blobsAlreadyCached.get();
    }

    /** Bytes of the planned blobs in the cache: those done, and what running downloads have written. */
    public long bytesDone() {
        long done = bytesOfDoneBlobs.get();
        for (BlobFill fill : following) {
            done += fill.readable();
        }
        return Math.min(done, Math.max(bytesTotal, bytesOfDoneBlobs.get()));
    }

    void resolved(Digest resolved) {
        this.digest = resolved;
    }

    void planned(List<Descriptor> blobs) {
        long total = 0;
        for (Descriptor blob : blobs) {
            total += Math.max(0, blob.size());
        }
        this.bytesTotal = total;
        this.blobsTotal = blobs.size();
    }

    void following(BlobFill fill) {
        following.add(fill);
    }

    void blobDone(BlobFill fill, long size, boolean wasCached) {
        if (fill != null) {
            following.remove(fill);
        }
        bytesOfDoneBlobs.addAndGet(size);
        blobsDone.incrementAndGet();
        if (wasCached) {
            blobsAlreadyCached.incrementAndGet();
        }
    }

    void stopFollowing(BlobFill fill) {
        following.remove(fill);
    }
}
