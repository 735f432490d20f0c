package dev.regmirror.server.v2;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.regmirror.core.blob.FileBlobStore;
import dev.regmirror.core.hosted.HostedStore;
import dev.regmirror.core.hosted.UploadId;
import dev.regmirror.core.hosted.Uploads;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.reference.RepositoryName;
import dev.regmirror.core.testing.MutableClock;
import dev.regmirror.core.upstream.Route;
import dev.regmirror.server.http.ErrorResponder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.Executor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link UploadHandler} on an {@link EmbeddedChannel}: the answers the push API asks for, the body
 * streamed at the disk's pace (reading stops while a write is pending), refusals that close, and a
 * client that leaves mid-chunk leaving the upload as it was.
 */
class UploadHandlerTest {

    private static final Route APP = Route.hosted("local", new RepositoryName("lan/app"));
    private static final V2Request.Written WRITTEN = new V2Request.Written("/v2/", "lan/app", Optional.empty());
    private static final byte[] BLOB = "a layer of some bytes, sent in three pieces".getBytes(StandardCharsets.UTF_8);
    private static final Digest DIGEST = Digest.sha256Of(BLOB);

    @TempDir
    Path cache;

    private FileBlobStore blobs;
    private HostedStore hosted;
    private Uploads uploads;
    private final QueuedExecutor disk = new QueuedExecutor();
    private EmbeddedChannel channel;

    /** The disk executor, run by the test: writes stay pending until it says. */
    private static final class QueuedExecutor implements Executor {
        final ArrayDeque<Runnable> tasks = new ArrayDeque<>();

        @Override
        public void execute(Runnable task) {
            tasks.add(task);
        }
    }

    @BeforeEach
    void open() throws IOException {
        blobs = FileBlobStore.open(cache);
        hosted = HostedStore.open(blobs.layout(), blobs.index());
        uploads = new Uploads(hosted, blobs, new MutableClock(), Duration.ofHours(1), new SimpleMeterRegistry());
        channel = new EmbeddedChannel(new ContinueHandler(),
                new UploadHandler(uploads, disk, new ErrorResponder(new ObjectMapper())));
    }

    @AfterEach
    void close() throws IOException {
        assertFalse(channel.finishAndReleaseAll());
        blobs.close();
    }

    @Test
    void startThenThreeChunksThenPutStoresTheBlob() throws IOException {
        FullHttpResponse started = answer(start(Optional.empty()), new DefaultLastHttpContent());
        assertEquals(202, started.status().code());
        String location = started.headers().get("Location");
        UploadId id = new UploadId(started.headers().get("Docker-Upload-UUID"));
        assertEquals("/v2/lan/app/blobs/uploads/" + id, location);
        assertEquals("0-0", started.headers().get("Range"));
        assertEquals("0", started.headers().get("Content-Length"));
        started.release();

        FullHttpResponse chunk = answer(new V2Request.UploadChunk(HttpMethod.PATCH, true, APP, id, Optional.of("0-19"),
                OptionalLong.of(20), WRITTEN, V2Request.Origin.NONE), content(0, 7), content(7, 14), last(14, 20));
        assertEquals(202, chunk.status().code());
        assertEquals("0-19", chunk.headers().get("Range"));
        chunk.release();

        FullHttpResponse created = answer(new V2Request.UploadFinish(HttpMethod.PUT, true, APP, id, DIGEST,
                Optional.empty(), OptionalLong.empty(), WRITTEN, V2Request.Origin.NONE), last(20, BLOB.length));
        assertEquals(201, created.status().code());
        assertEquals("/v2/lan/app/blobs/" + DIGEST, created.headers().get("Location"));
        assertEquals(DIGEST.toString(), created.headers().get("Docker-Content-Digest"));
        created.release();
        assertTrue(hosted.hasBlob(APP, DIGEST));
        assertTrue(channel.config().isAutoRead(), "reading on its own again for the next request");
    }

    @Test
    void readingStopsWhileAWriteIsPendingAndResumesAfter() throws IOException {
        UploadId id = uploads.start(APP).id();
        channel.writeInbound(new V2Request.UploadChunk(HttpMethod.PATCH, true, APP, id, Optional.empty(),
                OptionalLong.empty(), WRITTEN, V2Request.Origin.NONE));
        assertFalse(channel.config().isAutoRead(), "no reading until the chunk is open");
        channel.writeInbound(content(0, 10));
        stepDisk(); // opens the chunk
        assertEquals(1, disk.tasks.size(), "the first piece is being written");
        channel.writeInbound(content(10, 20));
        assertFalse(channel.config().isAutoRead());
        assertEquals(1, disk.tasks.size(), "one write at a time: the second piece waits");
        stepDisk();
        assertEquals(1, disk.tasks.size(), "the second piece is written once the first is");
        assertEquals(10, uploads.status(APP, id).size());
        runDisk();
        assertEquals(20, uploads.status(APP, id).size());
        channel.writeInbound(last(20, BLOB.length));
        runDisk();
        FullHttpResponse accepted = channel.readOutbound();
        assertEquals(202, accepted.status().code());
        assertEquals("0-" + (BLOB.length - 1), accepted.headers().get("Range"));
        accepted.release();
        assertTrue(channel.config().isAutoRead());
    }

    @Test
    void anOutOfOrderChunkIs416WithTheRangeAndTheConnectionCloses() throws IOException {
        UploadId id = uploads.start(APP).id();
        FullHttpResponse refused = answer(new V2Request.UploadChunk(HttpMethod.PATCH, true, APP, id,
                Optional.of("5-9"), OptionalLong.of(5), WRITTEN, V2Request.Origin.NONE));
        assertEquals(416, refused.status().code());
        assertEquals("0-0", refused.headers().get("Range"));
        assertEquals("/v2/lan/app/blobs/uploads/" + id, refused.headers().get("Location"));
        assertEquals("close", refused.headers().get("Connection"));
        refused.release();
        channel.writeInbound(last(5, 10));
        assertEquals(0, uploads.status(APP, id).size());
    }

    @Test
    void aWrongDigestIsDigestInvalidAndNothingIsLinked() throws IOException {
        FullHttpResponse refused = answer(start(Optional.of(Digest.sha256Of(new byte[1]))), last(0, BLOB.length));
        assertEquals(400, refused.status().code());
        assertTrue(refused.content().toString(StandardCharsets.UTF_8).contains("DIGEST_INVALID"));
        refused.release();
        assertFalse(hosted.hasBlob(APP, DIGEST));
        assertEquals(0, uploads.inProgress());
    }

    @Test
    void aMonolithicPostAnswers100ContinueFirstWhenAskedFor() throws IOException {
        ContinueHandler.expect(channel);
        channel.writeInbound(start(Optional.of(DIGEST)));
        FullHttpResponse proceed = channel.readOutbound();
        assertEquals(100, proceed.status().code());
        proceed.release();
        channel.writeInbound(last(0, BLOB.length));
        runDisk();
        FullHttpResponse created = channel.readOutbound();
        assertEquals(201, created.status().code());
        created.release();
        assertArrayEquals(BLOB, Files.readAllBytes(blobs.pathOf(DIGEST)));
    }

    @Test
    void statusAndCancel() throws IOException {
        UploadId id = uploads.start(APP).id();
        FullHttpResponse status = answer(new V2Request.UploadStatus(HttpMethod.GET, true, APP, id, WRITTEN,
                V2Request.Origin.NONE));
        assertEquals(204, status.status().code());
        assertEquals("0-0", status.headers().get("Range"));
        assertEquals(id.value(), status.headers().get("Docker-Upload-UUID"));
        status.release();
        FullHttpResponse cancelled = answer(new V2Request.UploadStatus(HttpMethod.DELETE, true, APP, id, WRITTEN,
                V2Request.Origin.NONE));
        assertEquals(204, cancelled.status().code());
        cancelled.release();
        FullHttpResponse unknown = answer(new V2Request.UploadStatus(HttpMethod.GET, true, APP, id, WRITTEN,
                V2Request.Origin.NONE));
        assertEquals(404, unknown.status().code());
        assertTrue(unknown.content().toString(StandardCharsets.UTF_8).contains("BLOB_UPLOAD_UNKNOWN"));
        unknown.release();
    }

    @Test
    void aClientLeavingMidChunkLeavesTheUploadAsItWas() throws IOException {
        UploadId id = uploads.start(APP).id();
        channel.writeInbound(new V2Request.UploadChunk(HttpMethod.PATCH, true, APP, id, Optional.empty(),
                OptionalLong.empty(), WRITTEN, V2Request.Origin.NONE), content(0, 10));
        runDisk();
        channel.close();
        runDisk();
        assertEquals(0, uploads.status(APP, id).size());
        assertEquals(0, Files.size(hosted.upload(id).resolve("data")));
        Object left;
        while ((left = channel.readOutbound()) != null) {
            ReferenceCountUtil.release(left);
        }
    }

    @Test
    void aMonolithicPostCutShortLeavesNoUpload() throws IOException {
        channel.writeInbound(start(Optional.of(DIGEST)), content(0, 10));
        runDisk();
        assertEquals(1, uploads.inProgress());
        channel.close();
        runDisk();
        assertEquals(0, uploads.inProgress(), "nobody could resume it");
        assertFalse(hosted.hasBlob(APP, DIGEST));
    }

    private V2Request.UploadStart start(Optional<Digest> digest) {
        return new V2Request.UploadStart(HttpMethod.POST, true, APP, digest, Optional.empty(), Optional.empty(),
                OptionalLong.empty(), WRITTEN, V2Request.Origin.NONE);
    }

    /** Sends a request and its body, runs the disk work, and gives the one answer. */
    private FullHttpResponse answer(Object... messages) {
        channel.writeInbound(messages);
        runDisk();
        FullHttpResponse response = channel.readOutbound();
        assertNull(channel.readOutbound());
        return response;
    }

    /** Runs the disk work queued now, and what the event loop was handed back. */
    private void stepDisk() {
        for (int n = disk.tasks.size(); n > 0; n--) {
            disk.tasks.poll().run();
        }
        channel.runPendingTasks();
    }

    private void runDisk() {
        while (!disk.tasks.isEmpty() || channel.hasPendingTasks()) {
            Runnable task;
            while ((task = disk.tasks.poll()) != null) {
                task.run();
            }
            channel.runPendingTasks();
        }
    }

    private static DefaultHttpContent content(int from, int to) {
        return new DefaultHttpContent(Unpooled.wrappedBuffer(Arrays.copyOfRange(BLOB, from, to)));
    }

    private static LastHttpContent last(int from, int to) {
        return new DefaultLastHttpContent(Unpooled.wrappedBuffer(Arrays.copyOfRange(BLOB, from, to)));
    }
}
