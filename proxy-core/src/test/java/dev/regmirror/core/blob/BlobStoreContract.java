package dev.regmirror.core.blob;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.regmirror.core.reference.Digest;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What every {@link BlobStore} must do, whatever holds the bytes; each implementation's test
 * extends this with a fresh, empty store.
 */
public abstract class BlobStoreContract {

    @TempDir
    protected Path scratch;

    /** An empty store. */
    protected abstract BlobStore store() throws IOException;

    protected static byte[] random(int size, long seed) {
        byte[] bytes = new byte[size];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    /** Bytes {@code first} to {@code last} of an open blob, from a local file or a remote store. */
    protected static byte[] read(OpenBlob blob, long first, long last) throws IOException {
        if (blob.content() instanceof OpenBlob.LocalFile local) {
            ByteBuffer buffer = ByteBuffer.allocate((int) (last - first + 1));
            while (buffer.hasRemaining() && local.channel().read(buffer, first + buffer.position()) > 0) {
                // read on
            }
            return buffer.array();
        }
        try (InputStream in = ((OpenBlob.Remote) blob.content()).reader().open(first, last)) {
            return in.readAllBytes();
        }
    }

    private static BlobIngest write(BlobStore store, Digest digest, byte[] bytes, long declared) throws IOException {
        BlobIngest ingest = store.begin(digest, declared);
        int at = 0;
        while (at < bytes.length) {
            int n = Math.min(bytes.length - at, 100_000);
            ingest.write(ByteBuffer.wrap(bytes, at, n));
            at += n;
        }
        return ingest;
    }

    @Test
    void anAbsentBlobIsNotFound() throws IOException {
        BlobStore store = store();
        Digest digest = Digest.sha256Of(random(10, 1));
        assertTrue(store.find(digest).isEmpty());
        assertTrue(store.open(digest).isEmpty());
        assertTrue(store.readAll(digest).isEmpty());
        assertEquals(Optional.empty(), store.delete(digest));
    }

    @Test
    void anIngestedBlobIsStoredOnlyOnCommitAndReadByRange() throws IOException {
        BlobStore store = store();
        byte[] bytes = random(1_234_567, 2);
        Digest digest = Digest.sha256Of(bytes);
        BlobIngest ingest = write(store, digest, bytes, bytes.length);
        assertTrue(store.find(digest).isEmpty(), "visible before its commit");
        ingest.verify();
        assertArrayEquals(bytes, Files.readAllBytes(ingest.readablePath()), "readers follow the ingest file");
        assertEquals(new StoredBlob(digest, bytes.length), ingest.commit());
        assertArrayEquals(bytes, Files.readAllBytes(ingest.readablePath()), "and what the commit names");

        assertEquals(new StoredBlob(digest, bytes.length), store.find(digest).orElseThrow());
        try (OpenBlob open = store.open(digest).orElseThrow()) {
            assertEquals(bytes.length, open.size());
            assertArrayEquals(bytes, read(open, 0, bytes.length - 1));
            assertArrayEquals(Arrays.copyOfRange(bytes, 1000, 2000), read(open, 1000, 1999));
        }
    }

    @Test
    void aRelayedBlobIsVerifiedAndReadButNeverStored() throws IOException {
        BlobStore store = store();
        byte[] bytes = random(700_000, 12);
        Digest digest = Digest.sha256Of(bytes);
        BlobIngest relay = store.beginRelay(digest, bytes.length);
        relay.write(ByteBuffer.wrap(bytes));
        assertEquals(new StoredBlob(digest, bytes.length), relay.commit());
        assertArrayEquals(bytes, Files.readAllBytes(relay.readablePath()), "its readers read the kept spool");
        assertTrue(store.find(digest).isEmpty(), "the owner stores it, not this node");
        assertFalse(store.has(digest));

        BlobIngest wrong = store.beginRelay(Digest.sha256Of(random(700_000, 13)), bytes.length);
        wrong.write(ByteBuffer.wrap(bytes));
        assertThrows(DigestMismatchException.class, wrong::commit);
        assertFalse(Files.exists(wrong.path()), "a relay that failed verification leaves no spool");
    }

    @Test
    void wrongBytesAreNeverStored() throws IOException {
        BlobStore store = store();
        byte[] bytes = random(300_000, 3);
        Digest claimed = Digest.sha256Of(random(300_000, 4));
        BlobIngest wrong = write(store, claimed, bytes, bytes.length);
        assertThrows(DigestMismatchException.class, wrong::commit);
        assertTrue(store.find(claimed).isEmpty());

        byte[] shorter = Arrays.copyOf(bytes, 1000);
        BlobIngest cut = write(store, Digest.sha256Of(bytes), shorter, bytes.length);
        assertThrows(DigestMismatchException.class, cut::commit);
        assertTrue(store.find(Digest.sha256Of(bytes)).isEmpty());

        BlobIngest aborted = write(store, Digest.sha256Of(bytes), bytes, -1);
        aborted.abort();
        assertTrue(store.find(Digest.sha256Of(bytes)).isEmpty());
        assertFalse(Files.exists(aborted.path()), "an abandoned ingest leaves no file");
    }

    @Test
    void smallBlobsArePutAndReadWhole() throws IOException {
        BlobStore store = store();
        byte[] bytes = "{\"schemaVersion\":2}".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        Digest digest = Digest.sha256Of(bytes);
        assertEquals(new StoredBlob(digest, bytes.length), store.put(digest, bytes));
        assertArrayEquals(bytes, store.readAll(digest).orElseThrow());
        assertEquals(Optional.of((long) bytes.length), store.delete(digest));
        assertTrue(store.find(digest).isEmpty());
        assertTrue(store.readAll(digest).isEmpty());
    }

    @Test
    void anAdoptedFileBecomesTheBlobOnce() throws IOException {
        BlobStore store = store();
        byte[] bytes = random(500_000, 5);
        Digest digest = Digest.sha256Of(bytes);
        Path upload = Files.write(scratch.resolve("upload"), bytes);
        assertEquals(new StoredBlob(digest, bytes.length), store.adopt(upload, digest, bytes.length));
        assertFalse(Files.exists(upload));
        Path again = Files.write(scratch.resolve("again"), bytes);
        assertEquals(new StoredBlob(digest, bytes.length), store.adopt(again, digest, bytes.length));
        assertFalse(Files.exists(again));
        try (OpenBlob open = store.open(digest).orElseThrow()) {
            assertArrayEquals(bytes, read(open, 0, bytes.length - 1));
        }
    }

    @Test
    void aCheckedBlobIsReadWholeAndOnceQuarantinedIsNeverServedAgain() throws IOException {
        BlobStore store = store();
        byte[] bytes = random(300_000, 9);
        Digest digest = Digest.sha256Of(bytes);
        Digest empty = Digest.sha256Of(new byte[0]);
        store.put(digest, bytes);
        store.put(empty, new byte[0]);
        assertTrue(store.has(digest));
        Object identity;
        try (BlobStore.Checked checked = store.openForCheck(digest).orElseThrow()) {
            assertEquals(bytes.length, checked.size());
            assertArrayEquals(bytes, Channels.newInputStream(checked.content()).readAllBytes());
            identity = checked.identity();
        }
        try (BlobStore.Checked checked = store.openForCheck(empty).orElseThrow()) {
            assertEquals(0, Channels.newInputStream(checked.content()).readAllBytes().length, "an empty blob reads empty");
        }

        Optional<String> moved = store.quarantine(digest, identity, Instant.parse("2026-12-03T08:30:00Z"));

        assertTrue(moved.orElseThrow().endsWith("quarantine/sha256/" + digest.hex() + "-20261203T083000.000Z"),
                moved.get());
        assertFalse(store.has(digest));
        assertFalse(store.index().contains(digest), "out of the index");
        assertTrue(store.find(digest).isEmpty(), "never served again");
        assertTrue(store.open(digest).isEmpty());
        assertTrue(store.readAll(digest).isEmpty());
        assertTrue(store.openForCheck(digest).isEmpty());
        assertEquals(Optional.empty(), store.quarantine(digest, identity, Instant.parse("2026-12-03T08:31:00Z")),
                "gone: nothing more to move");
        store.put(digest, bytes);
        assertArrayEquals(bytes, store.readAll(digest).orElseThrow(), "a later pull stores it again");
    }
}
