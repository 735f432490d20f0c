package dev.regmirror.core.verify;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/** How far one verify has come, safe to read from any thread while it runs. */
public final class VerifyProgress {

    private volatile int blobsTotal;
    private volatile long bytesTotal;
    private volatile int manifestsTotal;
    private final AtomicInteger blobsChecked = new AtomicInteger();
    private final AtomicLong bytesHashed = new AtomicLong();
    private final AtomicInteger corrupt = new AtomicInteger();
    private final AtomicInteger manifestsChecked = new AtomicInteger();
    private final AtomicInteger missing = new AtomicInteger();

    public int blobsTotal() {
        return blobsTotal;
    }

    public long bytesTotal() {
        return bytesTotal;
    }

    public int blobsChecked() {
        return blobsChecked.get();
    }

    public long bytesHashed() {
        return bytesHashed.get();
    }

    /** Blobs found corrupt (and moved aside) so far. */
    public int corrupt() {
        return corrupt.get();
    }

    public int manifestsTotal() {
        return manifestsTotal;
    }

    public int manifestsChecked() {
        return manifestsChecked.get();
    }

    /** References of manifests to blobs or children that are not in the cache, so far. */
    public int missingReferences() {
        return missing.get();
    }

    void planned(int blobs, long bytes) {
        this.blobsTotal = blobs;
        this.bytesTotal = bytes;
    }

    void manifestsPlanned(int manifests) {
        this.manifestsTotal = manifests;
    }

    void hashed(long bytes) {
        bytesHashed.addAndGet(bytes);
    }

    void blobChecked() {
        blobsChecked.incrementAndGet();
    }

    void corruptFound() {
        corrupt.incrementAndGet();
    }

    void manifestChecked() {
        manifestsChecked.incrementAndGet();
    }

    void missingFound() {
        missing.incrementAndGet();
    }
}
