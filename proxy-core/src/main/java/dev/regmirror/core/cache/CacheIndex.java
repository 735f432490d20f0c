package dev.regmirror.core.cache;

import dev.regmirror.core.reference.Digest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The committed blobs with their sizes in least-recently-used order, and the total they weigh.
 * It picks what to evict past the cap: the least recently used first, never a blob that is pinned
 * (open for reading), and never a retained one (hosted content, which no cap evicts and which does
 * not count against it). Blobs still filling are not in it, so they cannot be picked. Pinning is
 * lock-free (callable from an event loop); the rest takes a short lock and is called from disk
 * threads.
 */
public final class CacheIndex {

    /** A blob as the index knows it. */
    public record Entry(Digest digest, long size) {
    }

    private final long maxBytes;
    private final LinkedHashMap<Digest, Long> lru = new LinkedHashMap<>(1024, 0.75f, true);
    private final Map<Digest, AtomicInteger> pins = new ConcurrentHashMap<>();
    private long totalBytes;
    /** Hosted content: never evicted, not counted against the cap. */
    private final java.util.Set<Digest> retained = new java.util.HashSet<>();
    private long retainedBytes;

    /** @param maxBytes the cap; 0 or less means none */
    public CacheIndex(long maxBytes) {
        this.maxBytes = maxBytes;
    }

    /** Builds the index from what is on disk, oldest access first. */
    public static CacheIndex of(long maxBytes, List<Stored> onDisk) {
        CacheIndex index = new CacheIndex(maxBytes);
        onDisk.stream().sorted((a, b) -> a.lastAccess().compareTo(b.lastAccess()))
                .forEach(stored -> index.add(stored.digest(), stored.size()));
        return index;
    }

    /** A blob found on disk at start, with the time it was last used. */
    public record Stored(Digest digest, long size, Instant lastAccess) {
    }

    public synchronized void add(Digest digest, long size) {
        Long previous = lru.put(digest, size);
        long change = size - (previous == null ? 0 : previous);
        totalBytes += change;
        if (retained.contains(digest)) {
            retainedBytes += change;
        }
    }

    /** Keeps the blob (hosted content, present or to come) from eviction and out of the cap, until {@link #release}. */
    public synchronized void retain(Digest digest) {
        if (retained.add(digest)) {
            retainedBytes += lru.getOrDefault(digest, 0L);
        }
    }

    /** Makes a blob that no hosted content needs any more an ordinary cached one again. */
    public synchronized void release(Digest digest) {
        if (retained.remove(digest)) {
            retainedBytes -= lru.getOrDefault(digest, 0L);
        }
    }

    /** The digests retained now. */
    public synchronized java.util.Set<Digest> retainedDigests() {
        return java.util.Set.copyOf(retained);
    }

    public synchronized boolean retained(Digest digest) {
        return retained.contains(digest);
    }

    /** Bytes of hosted content, which the cap does not count. */
    public synchronized long retainedBytes() {
        return retainedBytes;
    }

    /** Marks the blob as just used. */
    public synchronized void touch(Digest digest) {
        lru.get(digest);
    }

    public synchronized void remove(Digest digest) {
        Long size = lru.remove(digest);
        if (size != null) {
            totalBytes -= size;
            if (retained.contains(digest)) {
                retainedBytes -= size;
            }
        }
    }

    /** Keeps the blob from eviction until {@link #unpin}; pins count. */
    public void pin(Digest digest) {
        pins.computeIfAbsent(digest, d -> new AtomicInteger()).incrementAndGet();
    }

    public void unpin(Digest digest) {
        AtomicInteger count = pins.get(digest);
        if (count != null && count.decrementAndGet() <= 0) {
            pins.remove(digest, count);
        }
    }

    /**
     * Takes out of the index the least recently used unpinned blobs until the total is within the
     * cap, and returns them for the caller to delete. Pinned blobs are skipped, so the total may
     * stay above the cap while they are read.
     */
    public synchronized List<Entry> evictOverCap() {
        List<Entry> evicted = new ArrayList<>();
        if (maxBytes <= 0) {
            return evicted;
        }
        Iterator<Map.Entry<Digest, Long>> oldestFirst = lru.entrySet().iterator();
        while (totalBytes - retainedBytes > maxBytes && oldestFirst.hasNext()) {
            Map.Entry<Digest, Long> candidate = oldestFirst.next();
            AtomicInteger pinned = pins.get(candidate.getKey());
            if (pinned != null && pinned.get() > 0 || retained.contains(candidate.getKey())) {
                continue;
            }
            oldestFirst.remove();
            totalBytes -= candidate.getValue();
            evicted.add(new Entry(candidate.getKey(), candidate.getValue()));
        }
        return evicted;
    }

    /** A copy of every blob in the index with its size, least recently used first. */
    public synchronized List<Entry> entries() {
        List<Entry> all = new ArrayList<>(lru.size());
        lru.forEach((digest, size) -> all.add(new Entry(digest, size)));
        return all;
    }

    public synchronized long totalBytes() {
        return totalBytes;
    }

    public synchronized int size() {
        return lru.size();
    }

    public long maxBytes() {
        return maxBytes;
    }

    /** The size of an indexed blob, marking it used (as a hit does); empty if it is not indexed. */
    public synchronized java.util.OptionalLong sizeOf(Digest digest) {
        Long size = lru.get(digest);
        if (size == null) {
            return java.util.OptionalLong.empty();
        }
        return java.util.OptionalLong.of(size);
    }

    public synchronized boolean contains(Digest digest) {
        return lru.containsKey(digest);
    }
}
