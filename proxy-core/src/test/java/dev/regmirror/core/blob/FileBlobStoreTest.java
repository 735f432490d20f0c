package dev.regmirror.core.blob;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.regmirror.core.manifest.ManifestBytes;
import dev.regmirror.core.manifest.MediaTypes;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.storage.CacheLayout;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The contract every BlobStore keeps: verify before visible, one file per digest, crash-safe. */
class FileBlobStoreTest {

    @TempDir
    Path dir;

    private static byte[] random(int size, long seed) {
        byte[] bytes = new byte[size];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    @Test
    void aRetainedBlobLargerThanTheCapIsAdoptedAndNotEvicted() throws IOException {
        FileBlobStore store = FileBlobStore.open(dir, 4_000);
        byte[] bytes = random(10_000, 8);
        Digest digest = Digest.sha256Of(bytes);
        Path upload = Files.write(Files.createDirectories(dir.resolve("hosted-uploads")).resolve("big"), bytes);
        store.index().retain(digest); // linked into a hosted repository before it is adopted

        store.adopt(upload, digest, bytes.length);
        store.put(Digest.sha256Of(random(3_000, 9)), random(3_000, 9));

        assertArrayEquals(bytes, store.readAll(digest).orElseThrow(), "hosted content is outside the cap");
        store.close();
    }

    @Test
    void adoptRenamesAVerifiedFileInOnceAndKeepsABlobAlreadyStored() throws IOException {
        FileBlobStore store = FileBlobStore.open(dir);
        byte[] bytes = random(10_000, 7);
        Digest digest = Digest.sha256Of(bytes);
        Path upload = Files.write(Files.createDirectories(dir.resolve("hosted-uploads")).resolve("data"), bytes);

        StoredBlob adopted = store.adopt(upload, digest, bytes.length);

        assertEquals(new StoredBlob(digest, bytes.length), adopted);
        assertTrue(Files.isRegularFile(store.pathOf(digest)));
        assertFalse(Files.exists(upload), "renamed, not copied");
        assertArrayEquals(bytes, store.readAll(digest).orElseThrow());
        assertEquals(bytes.length, store.index().totalBytes());
        Object stored = Files.readAttributes(store.pathOf(digest), java.nio.file.attribute.BasicFileAttributes.class)
                .fileKey();
        Path again = Files.write(dir.resolve("hosted-uploads").resolve("again"), bytes);
        assertEquals(adopted, store.adopt(again, digest, bytes.length));
        assertFalse(Files.exists(again), "the second copy is dropped");
        assertEquals(stored, Files.readAttributes(store.pathOf(digest), java.nio.file.attribute.BasicFileAttributes.class)
                .fileKey(), "the stored file stays as it was");
        assertEquals(bytes.length, store.index().totalBytes());
        store.close();
    }

    @Test
    void adoptRefusesABlobLargerThanTheCap() throws IOException {
        FileBlobStore store = FileBlobStore.open(dir, 1000);
        byte[] bytes = random(2000, 8);
        Path upload = Files.write(dir.resolve("big"), bytes);
        assertThrows(BlobTooLargeException.class, () -> store.adopt(upload, Digest.sha256Of(bytes), bytes.length));
        assertTrue(store.find(Digest.sha256Of(bytes)).isEmpty());
        store.close();
    }

    @Test
    void commitMakesTheBlobVisibleUnderItsDigest() throws IOException {
        FileBlobStore store = FileBlobStore.open(dir);
        byte[] bytes = random(100_000, 1);
        Digest digest = Digest.sha256Of(bytes);
        try (BlobIngest ingest = store.begin(digest, bytes.length)) {
            ingest.write(ByteBuffer.wrap(bytes, 0, 40_000));
            assertTrue(store.find(digest).isEmpty(), "nothing is visible before commit");
            ingest.write(ByteBuffer.wrap(bytes, 40_000, 60_000));
            StoredBlob blob = ingest.commit();
            assertEquals(bytes.length, blob.size());
        }
        assertArrayEquals(bytes, store.readAll(digest).orElseThrow());
        assertEquals(dir.resolve("blobs/sha256/" + digest.hex().substring(0, 2) + "/" + digest.hex()),
                store.pathOf(digest));
        assertEquals(new StoredBlob(digest, bytes.length), store.find(digest).orElseThrow());
        assertEquals(0, countFiles(new CacheLayout(dir).ingest()));
    }

    @Test
    void aBlobDeclaredLargerThanTheCapIsRefusedBeforeAnythingIsWritten() throws IOException {
        FileBlobStore store = FileBlobStore.open(dir, 10_000);
        byte[] bytes = random(10_001, 7);
        BlobTooLargeException refused = assertThrows(BlobTooLargeException.class,
                () -> store.begin(Digest.sha256Of(bytes), bytes.length));
        assertTrue(refused.getMessage().contains("10001 bytes is larger than cache.max-size (10000 bytes)"),
                refused.getMessage());
        try (Stream<Path> ingest = Files.list(new CacheLayout(dir).ingest())) {
            assertEquals(0, ingest.count());
        }
        byte[] fits = random(10_000, 8);
        assertEquals(fits.length, store.put(Digest.sha256Of(fits), fits).size(), "a blob the size of the cap is stored");
    }

    /**
     * A disk that runs out halfway through a download cuts off every response following it; a
     * blob of declared size the file system has no room for is refused before anything is read,
     * counting what the downloads in progress still have to write.
     */
    @Test
    void aBlobTheDiskHasNoRoomForIsRefusedCountingDownloadsInProgress() throws IOException {
        FileBlobStore store = FileBlobStore.open(dir);
        long usable = Files.getFileStore(dir).getUsableSpace();
        Digest someDigest = Digest.sha256Of(new byte[] {1});
        DiskFullException refused = assertThrows(DiskFullException.class,
                () -> store.begin(someDigest, usable - FileBlobStore.HEADROOM / 2));
        assertTrue(refused.getMessage().contains("no space for blob"), refused.getMessage());
        assertEquals(0, countFiles(new CacheLayout(dir).ingest()), "nothing is begun");

        long half = (long) (usable * 0.6);
        BlobIngest first = store.begin(someDigest, half);
        assertThrows(DiskFullException.class, () -> store.begin(Digest.sha256Of(new byte[] {2}), half),
                "the first download's unwritten bytes are promised");
        first.abort();
        store.begin(Digest.sha256Of(new byte[] {2}), half).abort();

        byte[] small = random(1000, 9);
        assertEquals(1000, store.put(Digest.sha256Of(small), small).size(), "small content needs no promise");
        store.begin(Digest.sha256Of(small), -1).abort();
    }

    @Test
    void digestMismatchCommitsNothing() throws IOException {
        FileBlobStore store = FileBlobStore.open(dir);
        byte[] bytes = random(1000, 2);
        Digest claimed = Digest.sha256Of(random(1000, 3));
        BlobIngest ingest = store.begin(claimed, bytes.length);
        ingest.write(ByteBuffer.wrap(bytes));
        assertThrows(DigestMismatchException.class, ingest::commit);
        assertTrue(store.find(claimed).isEmpty());
        assertEquals(0, countFiles(new CacheLayout(dir).ingest()));
    }

    @Test
    void truncatedBodyCommitsNothing() throws IOException {
        FileBlobStore store = FileBlobStore.open(dir);
        byte[] bytes = random(1000, 4);
        Digest digest = Digest.sha256Of(bytes);
        BlobIngest ingest = store.begin(digest, bytes.length);
        ingest.write(ByteBuffer.wrap(bytes, 0, 999));
        assertThrows(DigestMismatchException.class, ingest::commit);
        assertTrue(store.find(digest).isEmpty());
    }

    @Test
    void bytesAppendedAndHashedApartCommitOnlyOnceEveryByteIsHashed() throws IOException {
        FileBlobStore store = FileBlobStore.open(dir);
        byte[] bytes = random(1000, 6);
        Digest digest = Digest.sha256Of(bytes);
        BlobIngest ingest = store.begin(digest, bytes.length);
        ingest.append(ByteBuffer.wrap(bytes));
        ingest.hash(ByteBuffer.wrap(bytes, 0, 600));
        assertThrows(IllegalStateException.class, ingest::commit, "400 written bytes were never hashed");
        assertTrue(store.find(digest).isEmpty());
        assertEquals(0, countFiles(new CacheLayout(dir).ingest()));

        BlobIngest again = store.begin(digest, bytes.length);
        again.append(ByteBuffer.wrap(bytes, 0, 600));
        again.hash(ByteBuffer.wrap(bytes, 0, 300));
        again.append(ByteBuffer.wrap(bytes, 600, 400));
        again.hash(ByteBuffer.wrap(bytes, 300, 700));
        assertEquals(bytes.length, again.commit().size());
        assertArrayEquals(bytes, store.readAll(digest).orElseThrow());
    }

    @Test
    void longerBodyThanDeclaredFailsOnWrite() throws IOException {
        FileBlobStore store = FileBlobStore.open(dir);
        byte[] bytes = random(1000, 5);
        try (BlobIngest ingest = store.begin(Digest.sha256Of(bytes), 10)) {
            assertThrows(DigestMismatchException.class, () -> ingest.write(ByteBuffer.wrap(bytes)));
        }
        assertEquals(0, countFiles(new CacheLayout(dir).ingest()));
    }

    @Test
    void concurrentCommitsOfOneDigestAllSucceedWithOneFile() throws Exception {
        FileBlobStore store = FileBlobStore.open(dir);
        byte[] bytes = random(500_000, 6);
        Digest digest = Digest.sha256Of(bytes);
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<StoredBlob>> results = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                Callable<StoredBlob> writer = () -> store.put(digest, bytes);
                results.add(pool.submit(writer));
            }
            for (Future<StoredBlob> result : results) {
                assertEquals(bytes.length, result.get().size());
            }
        } finally {
            pool.shutdownNow();
        }
        assertArrayEquals(bytes, store.readAll(digest).orElseThrow());
        assertEquals(1, countFiles(new CacheLayout(dir).blobs()));
    }

    @Test
    void leftoversOfACrashAreRemovedAtOpen() throws IOException {
        FileBlobStore store = FileBlobStore.open(dir);
        byte[] bytes = random(1000, 7);
        Digest digest = Digest.sha256Of(bytes);
        BlobIngest abandoned = store.begin(digest, bytes.length);
        abandoned.write(ByteBuffer.wrap(bytes, 0, 500));
        // The process dies here: no commit, no abort (and the OS releases its lock).
        assertEquals(1, countFiles(new CacheLayout(dir).ingest()));
        store.close();

        FileBlobStore reopened = FileBlobStore.open(dir);
        assertEquals(0, countFiles(new CacheLayout(dir).ingest()));
        assertTrue(reopened.find(digest).isEmpty());
    }

    @Test
    void openedBlobStaysReadableAfterItsFileIsRemoved() throws IOException {
        FileBlobStore store = FileBlobStore.open(dir);
        byte[] bytes = random(4096, 8);
        Digest digest = Digest.sha256Of(bytes);
        store.put(digest, bytes);
        try (OpenBlob open = store.open(digest).orElseThrow()) {
            Files.delete(store.pathOf(digest));
            ByteBuffer buffer = ByteBuffer.allocate(bytes.length);
            while (buffer.hasRemaining() && open.file().orElseThrow().read(buffer, buffer.position()) > 0) {
                // read all
            }
            assertArrayEquals(bytes, buffer.array());
        }
        assertFalse(store.open(digest).isPresent());
    }

    @Test
    void deleteTakesTheBlobOutOfIndexAndDiskWhileAnOpenReaderFinishes() throws IOException {
        FileBlobStore store = FileBlobStore.open(dir);
        byte[] bytes = random(8192, 9);
        Digest digest = Digest.sha256Of(bytes);
        store.put(digest, bytes);
        try (OpenBlob open = store.open(digest).orElseThrow()) {
            assertEquals(java.util.Optional.of(8192L), store.delete(digest));
            assertFalse(Files.exists(store.pathOf(digest)));
            assertFalse(store.index().contains(digest));
            assertEquals(0, store.index().totalBytes());
            ByteBuffer buffer = ByteBuffer.allocate(bytes.length);
            while (buffer.hasRemaining() && open.file().orElseThrow().read(buffer, buffer.position()) > 0) {
                // read all
            }
            assertArrayEquals(bytes, buffer.array());
        }
        assertTrue(store.delete(digest).isEmpty(), "a second delete finds nothing");
        store.put(digest, bytes);
        assertEquals(8192, store.index().totalBytes(), "cached again after a new commit");
    }

    @Test
    void manifestsKeepTheirMediaTypeAndShareTheBlobFile() throws IOException {
        FileBlobStore store = FileBlobStore.open(dir);
        ManifestStore manifests = new ManifestStore(store, store.layout());
        byte[] bytes = "{\"schemaVersion\":2}".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        ManifestBytes manifest = new ManifestBytes(MediaTypes.OCI_MANIFEST, Digest.sha256Of(bytes), bytes);
        assertTrue(manifests.get(manifest.digest()).isEmpty());
        manifests.put(manifest);
        ManifestBytes read = manifests.get(manifest.digest()).orElseThrow();
        assertEquals(MediaTypes.OCI_MANIFEST, read.mediaType());
        assertArrayEquals(bytes, read.bytes());
        assertTrue(store.find(manifest.digest()).isPresent());
    }

    @Test
    void aBlobWithoutItsMediaTypeIsNotACachedManifest() throws IOException {
        FileBlobStore store = FileBlobStore.open(dir);
        ManifestStore manifests = new ManifestStore(store, store.layout());
        byte[] bytes = "{}".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        store.put(Digest.sha256Of(bytes), bytes);
        assertTrue(manifests.get(Digest.sha256Of(bytes)).isEmpty());
    }

    @Test
    void aSecondStoreOnTheSameDirectoryIsRefusedUntilTheFirstCloses() throws IOException {
        FileBlobStore first = FileBlobStore.open(dir);
        IOException refused = assertThrows(IOException.class, () -> FileBlobStore.open(dir));
        assertTrue(refused.getMessage().contains("in use by another regmirror process"), refused.getMessage());
        first.close();
        FileBlobStore.open(dir).close();
    }

    @Test
    void pastTheCapTheLeastRecentlyUsedBlobIsDeletedButNotOneBeingRead() throws IOException {
        FileBlobStore store = FileBlobStore.open(dir, 250_000);
        byte[] a = random(100_000, 11);
        byte[] b = random(100_000, 12);
        byte[] c = random(100_000, 13);
        store.put(Digest.sha256Of(a), a);
        store.put(Digest.sha256Of(b), b);
        try (OpenBlob reading = store.open(Digest.sha256Of(a)).orElseThrow()) {
            store.put(Digest.sha256Of(c), c);
            assertTrue(store.find(Digest.sha256Of(a)).isPresent(), "a blob being read is not evicted");
            assertTrue(store.find(Digest.sha256Of(b)).isEmpty(), "the least recently used one is");
            assertTrue(store.find(Digest.sha256Of(c)).isPresent());
            assertEquals(1, store.evictions());
            assertEquals(200_000, store.index().totalBytes());
        }
    }

    @Test
    void sizesAndRecencySurviveARestart() throws IOException {
        FileBlobStore store = FileBlobStore.open(dir);
        byte[] old = random(1000, 21);
        byte[] recent = random(1000, 22);
        store.put(Digest.sha256Of(old), old);
        store.put(Digest.sha256Of(recent), recent);
        Files.setLastModifiedTime(store.pathOf(Digest.sha256Of(old)),
                java.nio.file.attribute.FileTime.from(java.time.Instant.parse("2026-01-01T00:00:00Z")));
        store.close();

        FileBlobStore reopened = FileBlobStore.open(dir, 1500);
        assertEquals(1, reopened.index().size(), "over the cap at start: the least recently used goes");
        assertTrue(reopened.find(Digest.sha256Of(recent)).isPresent());
        assertTrue(reopened.find(Digest.sha256Of(old)).isEmpty());
        assertEquals(1000, reopened.index().totalBytes());
    }

    private static long countFiles(Path root) throws IOException {
        try (Stream<Path> files = Files.walk(root)) {
            return files.filter(Files::isRegularFile).filter(f -> !f.getFileName().toString().equals(".lock")).count();
        }
    }
}
