package dev.regmirror.core.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.regmirror.core.reference.Digest;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Least recently used goes first, pinned content never, and the total stays right. */
class CacheIndexTest {

    private static Digest d(int n) {
        return Digest.sha256Of(new byte[] {(byte) n});
    }

    @Test
    void evictsLeastRecentlyUsedUntilWithinTheCap() {
        CacheIndex index = new CacheIndex(250);
        index.add(d(1), 100);
        index.add(d(2), 100);
        index.add(d(3), 100);
        index.touch(d(1));
        assertEquals(List.of(new CacheIndex.Entry(d(2), 100)), index.evictOverCap());
        assertEquals(200, index.totalBytes());
        assertEquals(List.of(), index.evictOverCap());
    }

    @Test
    void pinnedBlobsAreSkippedAndEvictedOnceUnpinned() {
        CacheIndex index = new CacheIndex(100);
        index.add(d(1), 100);
        index.pin(d(1));
        index.pin(d(1));
        index.add(d(2), 100);
        assertEquals(List.of(new CacheIndex.Entry(d(2), 100)), index.evictOverCap(), "the pinned one stays");
        index.add(d(3), 100);
        index.unpin(d(1));
        assertEquals(List.of(new CacheIndex.Entry(d(3), 100)), index.evictOverCap(), "still pinned once");
        index.unpin(d(1));
        index.add(d(4), 50);
        assertEquals(List.of(new CacheIndex.Entry(d(1), 100)), index.evictOverCap());
    }

    @Test
    void noCapEvictsNothing() {
        CacheIndex index = new CacheIndex(0);
        index.add(d(1), Long.MAX_VALUE / 2);
        assertEquals(List.of(), index.evictOverCap());
    }

    @Test
    void rebuiltFromDiskInOrderOfLastUse() {
        CacheIndex index = CacheIndex.of(150, List.of(
                new CacheIndex.Stored(d(1), 100, Instant.parse("2026-01-03T00:00:00Z")),
                new CacheIndex.Stored(d(2), 100, Instant.parse("2026-01-01T00:00:00Z"))));
        assertEquals(200, index.totalBytes());
        assertEquals(List.of(new CacheIndex.Entry(d(2), 100)), index.evictOverCap());
    }
}
