package dev.regmirror.server.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.regmirror.server.http.ErrorResponder;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerKeepAliveHandler;
import org.junit.jupiter.api.Test;

/**
 * What the aggregator refuses itself, answered as registry errors like every other refusal (found by
 * {@code V2RequestDecoderFuzzTest}: an unknown {@code Expect} got Netty's bare 417 with no body).
 */
class StreamingAggregatorTest {

    private final EmbeddedChannel channel = ClientChannel.from("10.0.0.1", new HttpServerCodec(),
            new HttpServerKeepAliveHandler(), new StreamingAggregator(64 * 1024, new ErrorResponder(new ObjectMapper())));

    @Test
    void anExpectationOtherThan100ContinueIs417WithARegistryErrorAndTheConnectionGoesOn() {
        // The client, told its expectation failed, does not send the body (the codec stops waiting for it).
        ClientChannel.send(channel, "GET /v2/alpine/manifests/latest HTTP/1.1\r\nExpect: 100-conta.ue\r\n"
                + "Content-Length: 2\r\n\r\nGET /v2/ HTTP/1.1\r\n\r\n");
        String answer = ClientChannel.answer(channel);
        assertTrue(answer.startsWith("HTTP/1.1 417 Expectation Failed\r\n"), answer);
        assertTrue(answer.endsWith("{\"errors\":[{\"code\":\"EXPECTATION_FAILED\",\"message\":\"Expect: 100-conta.ue is"
                + " not supported; only 100-continue is\"}]}"), answer);
        io.netty.handler.codec.http.FullHttpRequest next = channel.readInbound();
        assertEquals("/v2/", next.uri(), "the next request on the connection is read as usual");
        next.release();
        assertTrue(channel.isOpen());
        assertFalse(channel.finishAndReleaseAll());
    }

    @Test
    void aPushAfterARefusedExpectationKeepsItsBody() {
        ClientChannel.send(channel, "GET /v2/ HTTP/1.1\r\nExpect: 100-conta.ue\r\n\r\n"
                + "PATCH /v2/lan/app/blobs/uploads/0f1e2d3c HTTP/1.1\r\nContent-Length: 4\r\n\r\nabcd");
        assertTrue(ClientChannel.answer(channel).startsWith("HTTP/1.1 417 Expectation Failed\r\n"));
        io.netty.handler.codec.http.HttpRequest push = channel.readInbound();
        assertEquals("/v2/lan/app/blobs/uploads/0f1e2d3c", push.uri());
        io.netty.handler.codec.http.HttpContent body = channel.readInbound();
        assertTrue(body instanceof io.netty.handler.codec.http.LastHttpContent, "the body passes on, last: " + body);
        assertEquals("abcd", body.content().toString(java.nio.charset.StandardCharsets.UTF_8));
        body.release();
        assertTrue(channel.isOpen());
        // Netty's aggregator still thinks it aggregates the refused request, and says so at the close.
        channel.pipeline().addLast(new UnhandledErrorHandler());
        assertFalse(channel.finishAndReleaseAll());
    }

    /**
     * Heads the codec decodes from within a close reach the aggregator before the last content of
     * the request being answered; out of that order a head came while another was aggregated, and
     * Netty's aggregator threw. Once the connection is closed, what still comes is released and
     * dropped, without an error.
     */
    @Test
    void whatArrivesAfterTheCloseIsDroppedOutOfOrderOrNot() {
        java.util.List<Throwable> failures = new java.util.ArrayList<>();
        channel.pipeline().addLast(new io.netty.channel.ChannelInboundHandlerAdapter() {
            @Override
            public void exceptionCaught(io.netty.channel.ChannelHandlerContext ctx, Throwable cause) {
                failures.add(cause);
            }
        });
        io.netty.handler.codec.http.DefaultHttpRequest get = new io.netty.handler.codec.http.DefaultHttpRequest(
                io.netty.handler.codec.http.HttpVersion.HTTP_1_1, io.netty.handler.codec.http.HttpMethod.GET, "/v2/");
        io.netty.buffer.ByteBuf late = io.netty.buffer.Unpooled.copiedBuffer("late", java.nio.charset.StandardCharsets.UTF_8);
        // As the codec fires them from within the close, the pipeline still in place: a head, a
        // second head, then a body chunk, all behind the codec, as it decodes what it still holds.
        channel.pipeline().addAfter(channel.pipeline().context(HttpServerCodec.class).name(), "closing",
                new io.netty.channel.ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelInactive(io.netty.channel.ChannelHandlerContext ctx) {
                        ctx.fireChannelRead(get);
                        ctx.fireChannelRead(new io.netty.handler.codec.http.DefaultHttpRequest(get.protocolVersion(),
                                get.method(), "/v2/"));
                        ctx.fireChannelRead(new io.netty.handler.codec.http.DefaultLastHttpContent(late));
                        ctx.fireChannelInactive();
                    }
                });
        channel.close();
        assertEquals(java.util.List.of(), failures);
        assertEquals(0, late.refCnt(), "the late body was released");
        assertFalse(channel.finishAndReleaseAll(), "nothing was passed on");
    }

    @Test
    void aBodyOverTheLimitIs413WithARegistryErrorAndCloses() {
        // The aggregator reports the close in the middle of the body; the listener's last handler takes it.
        channel.pipeline().addLast(new UnhandledErrorHandler());
        ClientChannel.send(channel, "GET /v2/ HTTP/1.1\r\nContent-Length: 70000\r\n\r\n" + "x".repeat(70_000));
        String answer = ClientChannel.answer(channel);
        assertTrue(answer.startsWith("HTTP/1.1 413 Request Entity Too Large\r\n"), answer);
        assertTrue(answer.contains("\"code\":\"BODY_TOO_LARGE\""), answer);
        assertFalse(channel.isOpen());
        assertFalse(channel.finishAndReleaseAll());
    }

    @Test
    void aContinueForABodyOverTheLimitIs413BeforeTheBodyIsSent() {
        channel.pipeline().addLast(new UnhandledErrorHandler());
        ClientChannel.send(channel, "GET /v2/ HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 70000\r\n\r\n");
        String answer = ClientChannel.answer(channel);
        assertTrue(answer.startsWith("HTTP/1.1 413 Request Entity Too Large\r\n"), answer);
        assertTrue(answer.contains("\"code\":\"BODY_TOO_LARGE\""), answer);
        assertFalse(channel.finishAndReleaseAll());
    }

    @Test
    void aContinueWithinTheLimitIsStill100Continue() {
        ClientChannel.send(channel, "GET /v2/ HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n");
        assertTrue(ClientChannel.answer(channel).startsWith("HTTP/1.1 100 Continue\r\n"));
        ClientChannel.send(channel, "{}");
        io.netty.handler.codec.http.FullHttpRequest request = channel.readInbound();
        assertEquals("{}", request.content().toString(java.nio.charset.StandardCharsets.UTF_8));
        request.release();
        assertTrue(channel.isOpen());
        assertFalse(channel.finishAndReleaseAll());
    }

    @Test
    void aHeadWithAContentLengthThatIsNoNumberAndAnExpectationPassesOnAsUnreadable() {
        ClientChannel.send(channel, "GET /v2/ HTTP/1.1\r\nExpect: 100-continue\r\n"
                + "Content-Length: \u00d80\r\n\r\n");
        io.netty.handler.codec.http.HttpRequest request = channel.readInbound();
        assertTrue(request.decoderResult().isFailure(), "the decoder closes the connection of an unreadable head");
        io.netty.util.ReferenceCountUtil.release(request);
        assertEquals("", ClientChannel.answer(channel));
        assertFalse(channel.finishAndReleaseAll());
    }
}
