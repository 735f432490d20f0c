package dev.regmirror.core.hosted;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.regmirror.core.blob.FileBlobStore;
import dev.regmirror.core.blob.StoredBlob;
import dev.regmirror.core.error.InvalidRequestException;
import dev.regmirror.core.error.RegistryErrorCode;
import dev.regmirror.core.mirror.DigestLinks;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.reference.RepositoryName;
import dev.regmirror.core.testing.MutableClock;
import dev.regmirror.core.upstream.Route;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class UploadsTest {

    private static final Route APP = Route.hosted("local", new RepositoryName("lan/app"));
    private static final Route OTHER = Route.hosted("local", new RepositoryName("lan/other"));
    private static final Route MIRRORED = new Route("docker.io", new RepositoryName("library/alpine"));
    private static final byte[] BLOB = "the quick brown fox jumps over the lazy dog".getBytes(StandardCharsets.UTF_8);
    private static final Digest DIGEST = Digest.sha256Of(BLOB);

    @TempDir
    Path cache;

    private FileBlobStore blobs;
    private HostedStore hosted;
    private MutableClock clock;
    private SimpleMeterRegistry meters;
    private Uploads uploads;

    @BeforeEach
    void open() throws IOException {
        blobs = FileBlobStore.open(cache);
        hosted = HostedStore.open(blobs.layout(), blobs.index());
        clock = new MutableClock();
        meters = new SimpleMeterRegistry();
        uploads = new Uploads(hosted, blobs, clock, Duration.ofMinutes(10), meters);
    }

    @AfterEach
    void close() throws IOException {
        blobs.close();
    }

    @Test
    void chunksInOrderThenFinishStoreTheBlobOnceAndLinkIt() throws IOException {
        Upload started = uploads.start(APP);
        assertEquals(0, started.size());
        assertEquals("0-0", started.range());
        assertEquals(10, append(started.id(), Optional.of("0-9"), 0, 10).size());
        assertEquals(20, append(started.id(), Optional.empty(), 10, 20).size());
        Upload third = append(started.id(), Optional.of("20-" + (BLOB.length - 1)), 20, BLOB.length);
        assertEquals("0-" + (BLOB.length - 1), third.range());

        StoredBlob stored = uploads.finish(APP, started.id(), DIGEST);

        assertArrayEquals(BLOB, Files.readAllBytes(blobs.pathOf(DIGEST)));
        assertEquals(new StoredBlob(DIGEST, BLOB.length), stored);
        assertTrue(hosted.hasBlob(APP, DIGEST));
        assertTrue(blobs.index().retained(DIGEST));
        assertFalse(Files.exists(hosted.upload(started.id())), "the upload's directory is gone");
        assertEquals(BLOB.length, meters.counter("regmirror.hosted.upload.bytes").count());
        assertEquals(1, meters.counter("regmirror.hosted.upload.blobs").count());
        assertCode(RegistryErrorCode.BLOB_UPLOAD_UNKNOWN, () -> uploads.status(APP, started.id()));
    }

    @Test
    void aChunkOutOfOrderOrOverlappingIsRefusedWithTheRangeAndChangesNothing() throws IOException {
        UploadId id = uploads.start(APP).id();
        append(id, Optional.of("0-9"), 0, 10);

        InvalidRequestException gap = assertCode(RegistryErrorCode.RANGE_INVALID,
                () -> uploads.chunk(APP, id, Optional.of("15-20"), OptionalLong.empty()));
        assertEquals(416, gap.status());
        assertEquals("0-9", gap.headers().get("Range"));
        assertEquals(id.value(), gap.headers().get("Docker-Upload-UUID"));
        assertCode(RegistryErrorCode.RANGE_INVALID, () -> uploads.chunk(APP, id, Optional.of("5-14"), OptionalLong.empty()));
        assertCode(RegistryErrorCode.RANGE_INVALID, () -> uploads.chunk(APP, id, Optional.of("0-9"), OptionalLong.empty()));
        assertEquals(10, uploads.status(APP, id).size());

        // Resumed where the status says, it finishes with the right digest.
        append(id, Optional.of("10-" + (BLOB.length - 1)), 10, BLOB.length);
        assertEquals(DIGEST, uploads.finish(APP, id, DIGEST).digest());
    }

    @Test
    void aSecondChunkWhileOneIsWrittenIsRefused() throws IOException {
        UploadId id = uploads.start(APP).id();
        ChunkWriter first = uploads.chunk(APP, id, Optional.empty(), OptionalLong.empty());
        assertCode(RegistryErrorCode.RANGE_INVALID, () -> uploads.chunk(APP, id, Optional.empty(), OptionalLong.empty()));
        assertCode(RegistryErrorCode.RANGE_INVALID, () -> uploads.finish(APP, id, DIGEST));
        first.write(ByteBuffer.wrap(BLOB));
        first.complete();
        assertEquals(DIGEST, uploads.finish(APP, id, DIGEST).digest());
    }

    @Test
    void aChunkCutShortOrOfTheWrongLengthIsTakenBackOut() throws IOException {
        UploadId id = uploads.start(APP).id();
        append(id, Optional.empty(), 0, 10);
        ChunkWriter cut = uploads.chunk(APP, id, Optional.empty(), OptionalLong.empty());
        cut.write(ByteBuffer.wrap("garbage that never finished".getBytes(StandardCharsets.UTF_8)));
        cut.abort();
        assertEquals(10, uploads.status(APP, id).size());

        ChunkWriter shorter = uploads.chunk(APP, id, Optional.of("10-19"), OptionalLong.empty());
        shorter.write(ByteBuffer.wrap(BLOB, 10, 5));
        assertCode(RegistryErrorCode.BLOB_UPLOAD_INVALID, shorter::complete);
        assertEquals(10, uploads.status(APP, id).size());
        assertCode(RegistryErrorCode.BLOB_UPLOAD_INVALID,
                () -> uploads.chunk(APP, id, Optional.of("10-19"), OptionalLong.of(3)));

        append(id, Optional.empty(), 10, BLOB.length);
        assertEquals(DIGEST, uploads.finish(APP, id, DIGEST).digest(), "the running digest was restored");
        assertEquals(BLOB.length, Files.size(blobs.pathOf(DIGEST)));
    }

    @Test
    void aDigestMismatchLeavesNothing() throws IOException {
        UploadId id = uploads.start(APP).id();
        append(id, Optional.empty(), 0, BLOB.length);
        Digest other = Digest.sha256Of("something else".getBytes(StandardCharsets.UTF_8));

        assertCode(RegistryErrorCode.DIGEST_INVALID, () -> uploads.finish(APP, id, other));

        assertFalse(hosted.hasBlob(APP, other));
        assertTrue(blobs.find(other).isEmpty());
        assertTrue(blobs.find(DIGEST).isEmpty());
        assertFalse(Files.exists(hosted.upload(id)));
        assertEquals(0, uploads.inProgress());
        assertCode(RegistryErrorCode.BLOB_UPLOAD_UNKNOWN, () -> uploads.status(APP, id));
    }

    @Test
    void sha512IsCheckedByReadingTheUploadAgain() throws Exception {
        UploadId id = uploads.start(APP).id();
        append(id, Optional.empty(), 0, BLOB.length);
        Digest sha512 = new Digest("sha512", java.util.HexFormat.of().formatHex(
                java.security.MessageDigest.getInstance("SHA-512").digest(BLOB)));
        assertEquals(sha512, uploads.finish(APP, id, sha512).digest());
    }

    @Test
    void cancelRemovesTheBytesAndTheIdIsUnknownAfter() throws IOException {
        UploadId id = uploads.start(APP).id();
        append(id, Optional.empty(), 0, 10);
        uploads.cancel(APP, id);
        assertFalse(Files.exists(hosted.upload(id)));
        assertCode(RegistryErrorCode.BLOB_UPLOAD_UNKNOWN, () -> uploads.status(APP, id));
        assertCode(RegistryErrorCode.BLOB_UPLOAD_UNKNOWN, () -> uploads.cancel(APP, id));
        assertCode(RegistryErrorCode.BLOB_UPLOAD_UNKNOWN, () -> uploads.finish(APP, id, DIGEST));
    }

    @Test
    void anUploadBelongsToItsRepository() throws IOException {
        UploadId id = uploads.start(APP).id();
        assertCode(RegistryErrorCode.BLOB_UPLOAD_UNKNOWN, () -> uploads.status(OTHER, id));
        assertCode(RegistryErrorCode.BLOB_UPLOAD_UNKNOWN,
                () -> uploads.chunk(OTHER, id, Optional.empty(), OptionalLong.empty()));
    }

    @Test
    void uploadsIdleLongerThanTheTimeoutAreSweptAndActivityKeepsThemAlive() throws IOException {
        UploadId idle = uploads.start(APP).id();
        UploadId busy = uploads.start(APP).id();
        append(idle, Optional.empty(), 0, 10);
        clock.advance(Duration.ofMinutes(6));
        append(busy, Optional.empty(), 0, 10);
        clock.advance(Duration.ofMinutes(5));

        assertEquals(1, uploads.sweep());

        assertCode(RegistryErrorCode.BLOB_UPLOAD_UNKNOWN, () -> uploads.status(APP, idle));
        assertFalse(Files.exists(hosted.upload(idle)));
        assertEquals(10, uploads.status(APP, busy).size());
        assertEquals(1, meters.counter("regmirror.hosted.uploads.expired").count());
        clock.advance(Duration.ofMinutes(9));
        assertEquals(0, uploads.sweep(), "the status request counted as activity");
    }

    @Test
    void leftoversOfAnEarlierRunAreRemovedOnOpen() throws IOException {
        UploadId id = uploads.start(APP).id();
        append(id, Optional.empty(), 0, 10);
        Uploads reopened = new Uploads(hosted, blobs, clock, Duration.ofMinutes(10), meters);
        try (Stream<Path> left = Files.list(hosted.uploads())) {
            assertEquals(0, left.count());
        }
        assertCode(RegistryErrorCode.BLOB_UPLOAD_UNKNOWN, () -> reopened.status(APP, id));
    }

    @Test
    void mountsFromAHostedRepositoryThatLinksTheBlobOrFromAMirroredOneWhoseBlobIsCached() throws IOException {
        blobs.put(DIGEST, BLOB);
        assertTrue(uploads.mount(APP, DIGEST, Optional.of(OTHER)).isEmpty(), "other does not link it");
        assertTrue(uploads.mount(APP, DIGEST, Optional.empty()).isEmpty(), "app does not link it");
        assertFalse(hosted.hasBlob(APP, DIGEST));

        assertEquals(new StoredBlob(DIGEST, BLOB.length), uploads.mount(APP, DIGEST, Optional.of(MIRRORED)).orElseThrow());
        assertTrue(hosted.hasBlob(APP, DIGEST));
        assertTrue(uploads.mount(OTHER, DIGEST, Optional.of(APP)).isPresent());
        assertTrue(uploads.mount(APP, DIGEST, Optional.empty()).isPresent(), "already linked in the target");
        assertEquals(3, meters.counter("regmirror.hosted.mounts").count());

        Digest absent = Digest.sha256Of("absent".getBytes(StandardCharsets.UTF_8));
        assertTrue(uploads.mount(APP, absent, Optional.of(MIRRORED)).isEmpty());
        assertFalse(hosted.hasBlob(APP, absent));
    }

    @Test
    void underPullRulesAMirroredRepositoryGivesOnlyTheCachedBlobsLinkedToIt() throws IOException {
        DigestLinks links = DigestLinks.enforced(100, meters);
        Uploads linked = new Uploads(hosted, blobs, clock, Duration.ofMinutes(10), meters, links);
        blobs.put(DIGEST, BLOB);
        Route team = new Route("docker.io", new RepositoryName("team/secret"));
        links.link(team, DIGEST);
        assertTrue(linked.mount(APP, DIGEST, Optional.of(MIRRORED)).isEmpty(),
                "cached for team/secret, not linked to library/alpine: uploaded instead");
        assertFalse(hosted.hasBlob(APP, DIGEST));

        links.link(MIRRORED, DIGEST);
        assertEquals(new StoredBlob(DIGEST, BLOB.length), linked.mount(APP, DIGEST, Optional.of(MIRRORED)).orElseThrow());
        assertTrue(hosted.hasBlob(APP, DIGEST));
    }

    @Test
    void pushingABlobTheCacheHoldsKeepsOneFile() throws IOException {
        StoredBlob cached = blobs.put(DIGEST, BLOB);
        Path file = blobs.pathOf(DIGEST);
        Object inode = Files.readAttributes(file, java.nio.file.attribute.BasicFileAttributes.class).fileKey();
        UploadId id = uploads.start(APP).id();
        append(id, Optional.empty(), 0, BLOB.length);
        assertEquals(cached, uploads.finish(APP, id, DIGEST));
        assertEquals(inode, Files.readAttributes(file, java.nio.file.attribute.BasicFileAttributes.class).fileKey(),
                "the cached file stayed, the upload's was dropped");
        assertEquals(1, blobs.index().size());
    }

    private Upload append(UploadId id, Optional<String> range, int from, int to) throws IOException {
        ChunkWriter writer = uploads.chunk(APP, id, range, OptionalLong.of(to - from));
        writer.write(ByteBuffer.wrap(Arrays.copyOfRange(BLOB, from, to)));
        return writer.complete();
    }

    private static InvalidRequestException assertCode(RegistryErrorCode code,
                                                      org.junit.jupiter.api.function.Executable call) {
        InvalidRequestException e = assertThrows(InvalidRequestException.class, call);
        assertEquals(code, e.code(), e.getMessage());
        return e;
    }
}
