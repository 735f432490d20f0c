package dev.regmirror.core.storage.s3;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.regmirror.core.blob.BlobIngest;
import dev.regmirror.core.blob.BlobStore;
import dev.regmirror.core.blob.BlobStoreContract;
import dev.regmirror.core.blob.OpenBlob;
import dev.regmirror.core.config.S3Settings;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.storage.CacheLayout;
import dev.regmirror.core.testing.MutableClock;
import dev.regmirror.core.testing.S3ProxyProcess;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.time.Clock;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@link S3BlobStore} on a real S3 server under the {@link BlobStoreContract}, and what only a shared bucket shows. */
class S3BlobStoreIT extends BlobStoreContract {

    private static final AtomicInteger BUCKETS = new AtomicInteger();
    private static S3ProxyProcess s3;
    private static ExecutorService uploads;

    @BeforeAll
    static void start() {
        s3 = S3ProxyProcess.start();
        uploads = Executors.newFixedThreadPool(2);
    }

    @AfterAll
    static void stop() {
        uploads.shutdownNow();
        s3.close();
    }

    private static S3Objects bucket(String name) {
        s3.createBucket(name);
        return S3Objects.open(s3.s3Settings(name, "mirror/", S3Settings.MIN_PART_SIZE));
    }

    private S3BlobStore open(S3Objects objects, long maxBytes) throws IOException {
        return S3BlobStore.open(objects, new CacheLayout(Files.createTempDirectory(scratch, "node")), maxBytes,
                S3Settings.MIN_PART_SIZE, uploads, Clock.systemUTC(), Optional.empty());
    }

    @Override
    protected BlobStore store() throws IOException {
        return open(bucket("contract-" + BUCKETS.incrementAndGet()), 0);
    }

    @Test
    void aBlobOfSeveralPartsIsStoredWholeAndASecondNodeFindsIt() throws IOException {
        S3Objects objects = bucket("shared-" + BUCKETS.incrementAndGet());
        S3BlobStore first = open(objects, 0);
        byte[] bytes = random((int) (2 * S3Settings.MIN_PART_SIZE + 4321), 7);
        Digest digest = Digest.sha256Of(bytes);
        BlobIngest ingest = first.begin(digest, bytes.length);
        for (int at = 0; at < bytes.length; at += 1 << 20) {
            ingest.write(ByteBuffer.wrap(bytes, at, Math.min(1 << 20, bytes.length - at)));
        }
        ingest.commit();
        assertEquals(0, objects.abortUploadsStartedBefore(Instant.now().plusSeconds(60)), "no upload left over");

        S3BlobStore second = open(objects, 0);
        assertEquals(1, second.index().size(), "indexed from the bucket's listing");
        S3BlobStore late = open(bucket("late-" + BUCKETS.get()), 0);
        assertTrue(late.find(digest).isEmpty());
        try (OpenBlob open = second.open(digest).orElseThrow()) {
            assertArrayEquals(bytes, read(open, 0, bytes.length - 1));
        }
    }

    @Test
    void pastTheCapTheLeastRecentlyUsedUnpinnedBlobsLeaveTheBucket() throws IOException {
        S3Objects objects = bucket("capped-" + BUCKETS.incrementAndGet());
        S3BlobStore store = open(objects, 250_000);
        byte[][] blobs = {random(100_000, 11), random(100_000, 12), random(100_000, 13)};
        Digest[] digests = new Digest[3];
        for (int i = 0; i < 2; i++) {
            digests[i] = Digest.sha256Of(blobs[i]);
            store.put(digests[i], blobs[i]);
        }
        try (OpenBlob pinned = store.open(digests[0]).orElseThrow()) {
            digests[2] = Digest.sha256Of(blobs[2]);
            store.put(digests[2], blobs[2]);
            assertTrue(store.find(digests[0]).isPresent(), "being read: kept");
            assertFalse(objects.head(store.key(digests[1])).isPresent(), "least recently used: deleted");
            assertArrayEquals(blobs[0], read(pinned, 0, blobs[0].length - 1));
        }
        assertEquals(1, store.evictions());
    }

    @Test
    void anAbsentAnswerIsBelievedBrieflyExceptForWhatThisNodeStores() throws IOException {
        S3Objects objects = bucket("absent-" + BUCKETS.incrementAndGet());
        MutableClock clock = new MutableClock();
        S3BlobStore store = S3BlobStore.open(objects, new CacheLayout(Files.createTempDirectory(scratch, "node")), 0,
                S3Settings.MIN_PART_SIZE, uploads, clock, Optional.empty());
        S3BlobStore other = open(objects, 0);
        byte[] mine = random(1000, 21);
        byte[] theirs = random(1000, 22);
        Digest myDigest = Digest.sha256Of(mine);
        Digest theirDigest = Digest.sha256Of(theirs);
        assertTrue(store.find(myDigest).isEmpty());
        assertTrue(store.find(theirDigest).isEmpty());

        store.put(myDigest, mine);
        other.put(theirDigest, theirs);

        assertTrue(store.find(myDigest).isPresent(), "what this node stored is found at once");
        assertTrue(store.find(theirDigest).isEmpty(), "another node's blob: not asked again so soon");
        clock.advance(S3BlobStore.ABSENT_KEPT.plusMillis(1));
        assertTrue(store.find(theirDigest).isPresent(), "asked again once the absent answer is old");
    }
}
