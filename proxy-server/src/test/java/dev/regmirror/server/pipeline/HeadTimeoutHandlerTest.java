package dev.regmirror.server.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.benmanes.caffeine.cache.Ticker;
import dev.regmirror.server.http.ErrorResponder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The head timeout on the embedded event loop's clock: a head that takes too long is 408, an idle
 * connection is closed quietly, and nothing that comes after a whole head is timed.
 */
class HeadTimeoutHandlerTest {

    private static final String HEAD = "GET /v2/ HTTP/1.1\r\nHost: m\r\n\r\n";

    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();

    private EmbeddedChannel channel() {
        EmbeddedChannel channel = ClientChannel.from("10.0.0.1");
        channel.freezeTime(); // before the handler arms its timer, so that timer is on the frozen clock
        channel.pipeline().addLast(new HttpServerCodec(), new HeadTimeoutHandler(Duration.ofSeconds(10),
                new ErrorResponder(new ObjectMapper()), new RefusalLog("registry", Ticker.systemTicker(), meters)));
        return channel;
    }

    private static void advance(EmbeddedChannel channel, long millis) {
        channel.advanceTimeBy(millis, TimeUnit.MILLISECONDS);
        channel.runPendingTasks();
    }

    /** Takes the decoded request (head and empty end) off the channel. */
    private static void takeRequest(EmbeddedChannel channel) {
        assertInstanceOf(HttpRequest.class, channel.readInbound());
        assertInstanceOf(LastHttpContent.class, channel.readInbound());
    }

    private double timedOut() {
        return meters.get("regmirror.client.refusals").tag("kind", "head-timeout").counter().count();
    }

    @Test
    void aHeadSentTooSlowlyIs408AndClosed() {
        EmbeddedChannel channel = channel();
        ClientChannel.send(channel, "GET /v2/ HTTP/1.1\r\n");
        advance(channel, 5_000);
        ClientChannel.send(channel, "Ho");
        advance(channel, 4_999);
        assertTrue(channel.isOpen(), "the timeout counts from the connection, not from the last byte");
        advance(channel, 1);
        String answer = ClientChannel.answer(channel);
        assertTrue(answer.startsWith("HTTP/1.1 408 Request Timeout\r\n"), answer);
        assertTrue(answer.endsWith("{\"errors\":[{\"code\":\"REQUEST_TIMEOUT\",\"message\":\"no whole request head arrived"
                + " within 10s\"}]}"), answer);
        assertFalse(channel.isOpen());
        assertEquals(1, timedOut());
        // What the rest of the pipeline sees: the codec's report of a head cut short by the close.
        HttpRequest cut = channel.readInbound();
        assertTrue(cut.decoderResult().isFailure());
        ReferenceCountUtil.release(cut);
        assertFalse(channel.finishAndReleaseAll());
    }

    @Test
    void aConnectionThatSendsNothingIsClosedWithoutAnAnswer() {
        EmbeddedChannel channel = channel();
        advance(channel, 9_999);
        assertTrue(channel.isOpen());
        advance(channel, 1);
        assertFalse(channel.isOpen());
        assertEquals("", ClientChannel.answer(channel));
        assertEquals(0, timedOut(), "an idle connection is not a refusal");
        assertFalse(channel.finishAndReleaseAll());
    }

    @Test
    void aResponseStreamingForMinutesIsNotTimedAndTheNextHeadIsTimedFromItsFirstByte() {
        EmbeddedChannel channel = channel();
        advance(channel, 9_000);
        ClientChannel.send(channel, HEAD);
        takeRequest(channel);
        channel.writeOutbound(new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK));
        for (int minute = 0; minute < 10; minute++) {
            advance(channel, 60_000);
            channel.writeOutbound(new DefaultHttpContent(Unpooled.wrappedBuffer(new byte[100])));
        }
        assertTrue(channel.isOpen(), "a slow download is not cut");
        channel.writeOutbound(LastHttpContent.EMPTY_LAST_CONTENT);
        ClientChannel.answer(channel);

        advance(channel, 60_000);
        assertTrue(channel.isOpen(), "a kept-alive connection waiting for its next request is the idle timeout's");
        ClientChannel.send(channel, HEAD);
        takeRequest(channel);
        advance(channel, 60_000);
        assertTrue(channel.isOpen(), "a keep-alive request is served");
        channel.writeOutbound(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK));
        ClientChannel.answer(channel);

        advance(channel, 30_000);
        ClientChannel.send(channel, "GET /v2/ HT");
        advance(channel, 9_999);
        assertTrue(channel.isOpen());
        advance(channel, 1);
        assertTrue(ClientChannel.answer(channel).startsWith("HTTP/1.1 408 "), "timed from the head's first byte");
        assertFalse(channel.isOpen());
        assertEquals(1, timedOut());
        ReferenceCountUtil.release(channel.readInbound());
        assertFalse(channel.finishAndReleaseAll());
    }

    @Test
    void aRequestAnsweredWithinTheReadThatBroughtItLeavesTheKeptAliveConnectionUntimed() {
        EmbeddedChannel channel = ClientChannel.from("10.0.0.1");
        channel.freezeTime();
        channel.pipeline().addLast(new HttpServerCodec(), new HeadTimeoutHandler(Duration.ofSeconds(10),
                new ErrorResponder(new ObjectMapper()), new RefusalLog("registry", Ticker.systemTicker(), meters)),
                new io.netty.channel.ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(io.netty.channel.ChannelHandlerContext ctx, Object msg) {
                        // Answered at once, as a manifest in memory is: before the read completes.
                        if (msg instanceof HttpRequest) {
                            ctx.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK));
                        }
                        ReferenceCountUtil.release(msg);
                    }
                });
        ClientChannel.send(channel, HEAD);
        assertTrue(ClientChannel.answer(channel).startsWith("HTTP/1.1 200 "));
        advance(channel, 60_000);
        assertTrue(channel.isOpen(), "the request's own bytes are not the start of a next head");
        assertEquals(0, timedOut());

        ClientChannel.send(channel, "GET /v2/ HT");
        advance(channel, 10_000);
        assertTrue(ClientChannel.answer(channel).startsWith("HTTP/1.1 408 "), "a next head is still timed");
        assertFalse(channel.isOpen());
        channel.finishAndReleaseAll();
    }

    @Test
    void aRequestBodyStreamingAfterItsHeadAndA100ContinueIsNotTimed() {
        EmbeddedChannel channel = channel();
        ClientChannel.send(channel, "POST /admin/import HTTP/1.1\r\nHost: m\r\nExpect: 100-continue\r\n"
                + "Transfer-Encoding: chunked\r\n\r\n");
        assertInstanceOf(HttpRequest.class, channel.readInbound());
        DefaultFullHttpResponse interim = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE);
        channel.writeOutbound(interim);
        assertTrue(ClientChannel.answer(channel).startsWith("HTTP/1.1 100 Continue"));
        for (int minute = 0; minute < 5; minute++) {
            advance(channel, 60_000);
            ClientChannel.send(channel, "4\r\ntar!\r\n");
            HttpContent chunk = channel.readInbound();
            assertEquals("tar!", chunk.content().toString(java.nio.charset.StandardCharsets.US_ASCII));
            chunk.release();
        }
        ClientChannel.send(channel, "0\r\n\r\n");
        assertInstanceOf(LastHttpContent.class, channel.readInbound());
        assertTrue(channel.isOpen(), "the body took five minutes and was not cut");
        DefaultFullHttpResponse done = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        done.headers().set(HttpHeaderNames.CONTENT_LENGTH, 0);
        channel.writeOutbound(done);
        ClientChannel.answer(channel);
        advance(channel, 10_000);
        assertTrue(channel.isOpen(), "then waiting for the next request, which the head timeout does not time");
        assertFalse(channel.finishAndReleaseAll());
    }

    @Test
    void pipelinedRequestsAreTimedOnlyOnceAllAreAnswered() {
        EmbeddedChannel channel = channel();
        ClientChannel.send(channel, HEAD + HEAD);
        takeRequest(channel);
        takeRequest(channel);
        channel.writeOutbound(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK));
        advance(channel, 30_000);
        assertTrue(channel.isOpen(), "the second request is still being answered");
        channel.writeOutbound(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK));
        ReferenceCountUtil.release(ClientChannel.answer(channel));
        ClientChannel.send(channel, "GET");
        advance(channel, 10_000);
        String answer = ClientChannel.answer(channel);
        assertTrue(answer.startsWith("HTTP/1.1 408 "), answer);
        assertFalse(channel.isOpen(), "a third head begun after both answers is timed");
        ReferenceCountUtil.release(channel.readInbound());
        assertFalse(channel.finishAndReleaseAll());
    }
}
