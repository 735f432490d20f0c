package dev.regmirror.server.v2;

import io.netty.buffer.ByteBuf;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.regmirror.core.blob.FileBlobStore;
import dev.regmirror.core.client.BlobBody;
import dev.regmirror.core.mirror.PullThroughBlobs;
import dev.regmirror.core.mirror.RegistryClients;
import dev.regmirror.core.mirror.StorageHealth;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.testing.UnscriptedRegistryClient;
import dev.regmirror.core.reference.RepositoryName;
import dev.regmirror.core.upstream.Route;
import dev.regmirror.server.http.BlobResponder;
import dev.regmirror.server.http.ByteRange;
import dev.regmirror.server.http.ErrorResponder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.FileRegion;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.Flow;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.SubmissionPublisher;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A range of a blob still filling, as the channel sees it, with an upstream body the test hands
 * out chunk by chunk: a part before the last byte ends as soon as its bytes are written, a part
 * with the last byte only once the blob is verified, and never when verification fails.
 */
class BlobHandlerFillTest {

    private static final Route ROUTE = new Route("docker.io", new RepositoryName("library/alpine"));

    @TempDir
    Path dir;

    private final byte[] bytes = new byte[100_000];
    private final SubmissionPublisher<ByteBuf> upstreamBody = new SubmissionPublisher<>(Runnable::run, 4);
    private final ByteArrayOutputStream received = new ByteArrayOutputStream();
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
    private EmbeddedChannel channel;
    private boolean ended;

    {
        new Random(9).nextBytes(bytes);
    }

    @AfterEach
    void noLeaks() {
        scheduler.shutdownNow();
        assertFalse(channel.finishAndReleaseAll());
    }

    /** Asks for the blob under this digest from an upstream that declares this length. */
    private HttpResponse request(Digest digest, long declaredLength, String range) throws Exception {
        PullThroughBlobs blobs = new PullThroughBlobs(new RegistryClients(List.of(new ScriptedUpstream(declaredLength))),
                FileBlobStore.open(dir), Runnable::run, scheduler, Duration.ofMinutes(1),
                new StorageHealth(Clock.systemUTC(), Duration.ofMinutes(1), new SimpleMeterRegistry()),
                new SimpleMeterRegistry());
        channel = new EmbeddedChannel(new RegionCopier(),
                new BlobHandler(blobs, new BlobResponder(Runnable::run, new SimpleMeterRegistry()), new ErrorResponder(new ObjectMapper())));
        channel.writeInbound(new V2Request.Blob(HttpMethod.GET, true, ROUTE, digest, ByteRange.parse(range), V2Request.Origin.NONE));
        channel.runPendingTasks();
        return assertInstanceOf(HttpResponse.class, channel.readOutbound());
    }

    /** The upstream sends these bytes; the channel then sends what it may. */
    private void upstreamSends(int from, int to) {
        upstreamBody.submit(Unpooled.wrappedBuffer(bytes, from, to - from));
        drain();
    }

    /**
     * Copies each zero-copy file region into a buffer as it is written, as a socket would send it
     * before completing the write: the follower may close its file right after.
     */
    private static final class RegionCopier extends ChannelOutboundHandlerAdapter {
        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
            if (msg instanceof FileRegion region) {
                ByteArrayOutputStream copy = new ByteArrayOutputStream();
                try {
                    while (region.transferred() < region.count()) {
                        region.transferTo(Channels.newChannel(copy), region.transferred());
                    }
                } finally {
                    region.release();
                }
                ctx.write(new DefaultHttpContent(Unpooled.wrappedBuffer(copy.toByteArray())), promise);
                return;
            }
            ctx.write(msg, promise);
        }
    }

    private void upstreamEnds() {
        upstreamBody.close();
        drain();
    }

    private void drain() {
        channel.runPendingTasks();
        for (Object message; (message = channel.readOutbound()) != null; ) {
            HttpContent content = assertInstanceOf(HttpContent.class, message);
            byte[] chunk = new byte[content.content().readableBytes()];
            content.content().readBytes(chunk);
            received.writeBytes(chunk);
            ended |= content instanceof LastHttpContent;
            content.release();
        }
    }

    @Test
    void aPartBeforeTheLastByteEndsAsSoonAsItsBytesAreWritten() throws Exception {
        HttpResponse response = request(Digest.sha256Of(bytes), bytes.length, "bytes=1000-1999");
        assertEquals(206, response.status().code());
        assertEquals("bytes 1000-1999/100000", response.headers().get("Content-Range"));

        upstreamSends(0, 1500);
        assertEquals(499, received.size(), "all written but the last byte");
        assertFalse(ended);
        upstreamSends(1500, 50_000);
        assertTrue(ended, "the part ended while the upstream was still sending");
        assertArrayEquals(Arrays.copyOfRange(bytes, 1000, 2000), received.toByteArray());
    }

    @Test
    void aPartWithTheLastByteEndsOnlyOnceTheBlobIsVerified() throws Exception {
        HttpResponse response = request(Digest.sha256Of(bytes), bytes.length, "bytes=99000-");
        assertEquals("bytes 99000-99999/100000", response.headers().get("Content-Range"));

        upstreamSends(0, bytes.length);
        assertEquals(999, received.size(), "the last byte waits for verification");
        assertFalse(ended);
        upstreamEnds();
        assertTrue(ended);
        assertArrayEquals(Arrays.copyOfRange(bytes, 99_000, bytes.length), received.toByteArray());
    }

    @Test
    void aPartWithTheLastByteOfABlobThatFailsVerificationIsCutOff() throws Exception {
        request(Digest.sha256Of(new byte[] {7}), bytes.length, "bytes=-100");

        upstreamSends(0, bytes.length);
        upstreamEnds();
        assertEquals(99, received.size());
        assertFalse(ended, "never a complete 206");
        assertFalse(channel.isActive(), "the connection is closed before the declared length");
    }

    @Test
    void aBlobOfUnknownSizeIsSentWholeWhateverTheRange() throws Exception {
        HttpResponse response = request(Digest.sha256Of(bytes), -1, "bytes=0-9");
        assertEquals(200, response.status().code());
        assertEquals("bytes", response.headers().get("Accept-Ranges"));

        upstreamSends(0, bytes.length);
        upstreamEnds();
        assertTrue(ended);
        assertArrayEquals(bytes, received.toByteArray());
    }

    /** An upstream whose blob body is whatever the test publishes. */
    private final class ScriptedUpstream extends UnscriptedRegistryClient {

        private final long declaredLength;

        ScriptedUpstream(long declaredLength) {
            this.declaredLength = declaredLength;
        }

        @Override
        public CompletableFuture<BlobBody> getBlob(RepositoryName name, Digest digest) {
            return CompletableFuture.completedFuture(new BlobBody() {
                @Override
                public long contentLength() {
                    return declaredLength;
                }

                @Override
                public Flow.Publisher<ByteBuf> publisher() {
                    return upstreamBody;
                }
            });
        }
    }
}
