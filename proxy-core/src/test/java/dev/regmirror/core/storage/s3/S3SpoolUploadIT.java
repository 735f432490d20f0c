package dev.regmirror.core.storage.s3;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.regmirror.core.config.S3Settings;
import dev.regmirror.core.testing.S3ProxyProcess;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link S3SpoolUpload} against a real S3 server: the object appears whole on completion and never otherwise. */
class S3SpoolUploadIT {

    private static final String BUCKET = "spool";
    private static final long PART = S3Settings.MIN_PART_SIZE;
    private static S3ProxyProcess s3;
    private static S3Objects objects;
    private static ExecutorService executor;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() {
        s3 = S3ProxyProcess.start();
        s3.createBucket(BUCKET);
        objects = S3Objects.open(s3.s3Settings(BUCKET, "", PART));
        executor = Executors.newFixedThreadPool(2);
    }

    @AfterAll
    static void stop() {
        executor.shutdownNow();
        objects.close();
        s3.close();
    }

    /** Writes the bytes to the spool in uneven chunks, telling the upload after each, as a fill does. */
    private Path spoolWhileUploading(byte[] bytes, S3SpoolUpload upload, Path spool) throws IOException {
        try (FileChannel channel = FileChannel.open(spool, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            int at = 0;
            Random chunks = new Random(7);
            while (at < bytes.length) {
                int n = Math.min(bytes.length - at, 1 + chunks.nextInt(1 << 20));
                ByteBuffer buffer = ByteBuffer.wrap(bytes, at, n);
                while (buffer.hasRemaining()) {
                    channel.write(buffer);
                }
                at += n;
                upload.written(at);
            }
        }
        return spool;
    }

    private static byte[] random(int size) {
        byte[] bytes = new byte[size];
        new Random(size).nextBytes(bytes);
        return bytes;
    }

    private static byte[] stored(String key, long size) throws IOException {
        try (InputStream in = objects.open(key, 0, size - 1).orElseThrow()) {
            return in.readAllBytes();
        }
    }

    @Test
    void aBlobOfSeveralPartsAppearsWholeOnlyOnceCompleted() throws Exception {
        byte[] bytes = random((int) (2 * PART + 777_777));
        Path spool = dir.resolve("big");
        S3SpoolUpload upload = new S3SpoolUpload(objects, "blobs/big", spool, PART, executor);
        spoolWhileUploading(bytes, upload, spool);
        assertTrue(objects.head("blobs/big").isEmpty(), "visible before completion");
        upload.complete(bytes.length).get(60, TimeUnit.SECONDS);
        assertArrayEquals(bytes, stored("blobs/big", bytes.length));
        assertEquals(0, objects.abortUploadsStartedBefore(Instant.now().plusSeconds(60)), "an upload was left over");
    }

    @Test
    void aBlobOfExactlyWholePartsAndOneSmallerThanAPartAreStored() throws Exception {
        for (int size : new int[] {(int) PART, 1234, 0}) {
            byte[] bytes = random(size);
            Path spool = dir.resolve("blob-" + size);
            S3SpoolUpload upload = new S3SpoolUpload(objects, "blobs/size-" + size, spool, PART, executor);
            spoolWhileUploading(bytes, upload, spool);
            if (size == 0) {
                spool.toFile().createNewFile();
            }
            upload.complete(size).get(60, TimeUnit.SECONDS);
            assertEquals(size, objects.head("blobs/size-" + size).orElseThrow().size());
            if (size > 0) {
                assertArrayEquals(bytes, stored("blobs/size-" + size, size));
            }
        }
    }

    @Test
    void anAbortedBlobLeavesNoObjectAndNoUpload() throws Exception {
        byte[] bytes = random((int) (PART + 1000));
        Path spool = dir.resolve("aborted");
        S3SpoolUpload upload = new S3SpoolUpload(objects, "blobs/aborted", spool, PART, executor);
        spoolWhileUploading(bytes, upload, spool);
        upload.abort().get(60, TimeUnit.SECONDS);
        assertTrue(objects.head("blobs/aborted").isEmpty());
        assertEquals(0, objects.abortUploadsStartedBefore(Instant.now().plusSeconds(60)), "an upload was left over");
    }

    @Test
    void aFailedPartFailsTheCompletionAndLeavesNoObject() throws Exception {
        byte[] bytes = random((int) (PART + 1000));
        Path spool = dir.resolve("vanishing");
        S3SpoolUpload upload = new S3SpoolUpload(objects, "blobs/vanishing", spool, PART, executor);
        spoolWhileUploading(bytes, upload, spool);
        java.nio.file.Files.delete(spool);
        ExecutionException e = assertThrows(ExecutionException.class,
                () -> upload.complete(bytes.length).get(60, TimeUnit.SECONDS));
        assertTrue(e.getCause() instanceof S3StoreException, e.toString());
        assertTrue(objects.head("blobs/vanishing").isEmpty());
        assertEquals(0, objects.abortUploadsStartedBefore(Instant.now().plusSeconds(60)), "an upload was left over");
    }

    @Test
    void theUploadsANodeLeftOpenAreAbortedFromItsRecordsAndFinishedOnesLeaveNone() throws Exception {
        dev.regmirror.core.storage.CacheLayout layout = new dev.regmirror.core.storage.CacheLayout(dir.resolve("cache"));
        UploadRecords records = UploadRecords.of(layout);
        byte[] bytes = random((int) (PART + 2000));
        S3SpoolUpload done = new S3SpoolUpload(objects, "blobs/recorded-done", dir.resolve("done"), PART, executor,
                records);
        spoolWhileUploading(bytes, done, dir.resolve("done"));
        done.complete(bytes.length).get(60, TimeUnit.SECONDS);
        S3SpoolUpload dropped = new S3SpoolUpload(objects, "blobs/recorded-dropped", dir.resolve("dropped"), PART,
                executor, records);
        spoolWhileUploading(bytes, dropped, dir.resolve("dropped"));
        dropped.abort().get(60, TimeUnit.SECONDS);
        try (var left = java.nio.file.Files.list(layout.bucketUploads())) {
            assertEquals(0, left.count(), "a completed or aborted upload leaves no record");
        }

        // A node killed mid-upload: its first part is sent, then nothing more happens.
        ExecutorService dying = Executors.newSingleThreadExecutor();
        S3SpoolUpload killed = new S3SpoolUpload(objects, "blobs/recorded-killed", dir.resolve("killed"), PART,
                dying, records);
        spoolWhileUploading(bytes, killed, dir.resolve("killed"));
        dying.shutdown();
        assertTrue(dying.awaitTermination(60, TimeUnit.SECONDS), "the part was sent");
        assertEquals(1, listRecords(layout), "the open upload is recorded");
        assertEquals(1, UploadRecords.of(layout).abortLeftovers(objects), "the next start aborts it");
        assertEquals(0, listRecords(layout));
        assertTrue(objects.head("blobs/recorded-killed").isEmpty());
        assertEquals(0, objects.abortUploadsStartedBefore(Instant.now().plusSeconds(60)), "an upload was left over");
    }

    private static long listRecords(dev.regmirror.core.storage.CacheLayout layout) throws IOException {
        if (!java.nio.file.Files.isDirectory(layout.bucketUploads())) {
            return 0;
        }
        try (var left = java.nio.file.Files.list(layout.bucketUploads())) {
            return left.count();
        }
    }
}
