package dev.regmirror.server.http;

import io.netty.buffer.Unpooled;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.regmirror.core.reference.Digest;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.LastHttpContent;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Random;
import java.util.concurrent.SubmissionPublisher;
import org.junit.jupiter.api.Test;

/** An uncached body reaches the client whole only if it verifies; otherwise it is cut off short. */
class DirectRelayTest {

    private static byte[] random(int size) {
        byte[] bytes = new byte[size];
        new Random(9).nextBytes(bytes);
        return bytes;
    }

    private static ChannelHandlerContext contextOf(EmbeddedChannel channel) {
        channel.pipeline().addLast(new ChannelInboundHandlerAdapter());
        return channel.pipeline().lastContext();
    }

    /** Sends the bytes in three chunks through a relay into an embedded channel; returns what went out. */
    private static Sent relay(byte[] bytes, Digest claimed) {
        return relay(bytes, claimed, 0, Long.MAX_VALUE);
    }

    /** As {@link #relay(byte[], Digest)}, for bytes {@code first} to {@code end} (exclusive) only. */
    private static Sent relay(byte[] bytes, Digest claimed, long first, long end) {
        EmbeddedChannel channel = new EmbeddedChannel();
        DirectRelay relay = new DirectRelay(contextOf(channel), claimed, bytes.length, first, end, sent -> { },
                Runnable::run);
        try (SubmissionPublisher<ByteBuf> upstream = new SubmissionPublisher<>(Runnable::run, 4)) {
            upstream.subscribe(relay);
            int third = bytes.length / 3;
            upstream.submit(Unpooled.wrappedBuffer(bytes, 0, third));
            channel.runPendingTasks();
            upstream.submit(Unpooled.wrappedBuffer(bytes, third, third));
            channel.runPendingTasks();
            upstream.submit(Unpooled.wrappedBuffer(bytes, 2 * third, bytes.length - 2 * third));
            channel.runPendingTasks();
        }
        channel.runPendingTasks();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        boolean last = false;
        Object message;
        while ((message = channel.readOutbound()) != null) {
            HttpContent content = (HttpContent) message;
            ByteBuf buf = content.content();
            byte[] chunk = new byte[buf.readableBytes()];
            buf.readBytes(chunk);
            out.writeBytes(chunk);
            last |= content instanceof LastHttpContent;
            content.release();
        }
        Sent sent = new Sent(out.toByteArray(), last, channel.isOpen());
        assertFalse(channel.finishAndReleaseAll());
        return sent;
    }

    private record Sent(byte[] bytes, boolean ended, boolean open) {
    }

    @Test
    void aVerifiedBodyGoesOutWholeAndEnds() {
        byte[] bytes = random(90_000);
        Sent sent = relay(bytes, Digest.sha256Of(bytes));
        assertArrayEquals(bytes, sent.bytes());
        assertTrue(sent.ended());
    }

    @Test
    void aBodyThatFailsVerificationIsCutOffBeforeItsLastChunk() {
        byte[] bytes = random(90_000);
        Sent sent = relay(bytes, Digest.sha256Of(new byte[] {1}));
        assertTrue(sent.bytes().length < bytes.length, "the last chunk was held back");
        assertFalse(sent.ended());
        assertFalse(sent.open(), "the connection was closed");
        assertEquals(60_000, sent.bytes().length);
    }

    @Test
    void aPartBeforeTheLastByteEndsOnceItsBytesAreOut() {
        byte[] bytes = random(90_000);
        // Across the first two chunks; the digest is never checked for a part that stops early.
        Sent sent = relay(bytes, Digest.sha256Of(new byte[] {1}), 20_000, 40_000);
        assertArrayEquals(java.util.Arrays.copyOfRange(bytes, 20_000, 40_000), sent.bytes());
        assertTrue(sent.ended());
        assertTrue(sent.open());
    }

    @Test
    void aPartWithTheLastByteEndsOnlyOnceTheBodyVerified() {
        byte[] bytes = random(90_000);
        Sent good = relay(bytes, Digest.sha256Of(bytes), 50_000, 90_000);
        assertArrayEquals(java.util.Arrays.copyOfRange(bytes, 50_000, 90_000), good.bytes());
        assertTrue(good.ended());

        Sent bad = relay(bytes, Digest.sha256Of(new byte[] {1}), 50_000, 90_000);
        assertArrayEquals(java.util.Arrays.copyOfRange(bytes, 50_000, 60_000), bad.bytes(), "the last chunk held back");
        assertFalse(bad.ended());
        assertFalse(bad.open());
    }
}
