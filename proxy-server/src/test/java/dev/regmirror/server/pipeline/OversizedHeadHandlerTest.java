package dev.regmirror.server.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.benmanes.caffeine.cache.Ticker;
import dev.regmirror.server.http.ErrorResponder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.Test;

/**
 * Heads over the limits, cut by the real HTTP codec: 414 for a long request line, 431 for header
 * fields too big together, each with a registry error body and the connection closed.
 */
class OversizedHeadHandlerTest {

    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();

    private EmbeddedChannel channel() {
        return ClientChannel.from("10.0.0.1", new HttpServerCodec(new HttpDecoderConfig().setMaxInitialLineLength(1024)
                        .setMaxHeaderSize(2048)),
                new OversizedHeadHandler(1024, 2048, new ErrorResponder(new ObjectMapper()),
                        new RefusalLog("registry", Ticker.systemTicker(), meters)));
    }

    private double refused(String kind) {
        return meters.get("regmirror.client.refusals").tag("kind", kind).counter().count();
    }

    @Test
    void aRequestLineOverTheLimitIs414AndCloses() {
        EmbeddedChannel channel = channel();
        ClientChannel.send(channel, "GET /v2/" + "a".repeat(1100) + "/manifests/latest HTTP/1.1\r\nHost: m\r\n\r\n");
        String answer = ClientChannel.answer(channel);
        assertTrue(answer.startsWith("HTTP/1.1 414 "), answer);
        assertTrue(answer.contains("connection: close"), answer);
        assertTrue(answer.endsWith("{\"errors\":[{\"code\":\"URI_TOO_LONG\",\"message\":\"the request line is longer than"
                + " 1024 bytes\"}]}"), answer);
        assertFalse(channel.isOpen());
        assertEquals(1, refused("request-line"));
        assertFalse(channel.finishAndReleaseAll());
    }

    @Test
    void headerFieldsOverTheLimitTogetherAre431AndClose() {
        EmbeddedChannel channel = channel();
        // Each field is well under the limit; together they are over it.
        ClientChannel.send(channel, "GET /v2/ HTTP/1.1\r\nHost: m\r\nX-One: " + "a".repeat(900) + "\r\nX-Two: "
                + "b".repeat(900) + "\r\nX-Three: " + "c".repeat(900) + "\r\n\r\n");
        String answer = ClientChannel.answer(channel);
        assertTrue(answer.startsWith("HTTP/1.1 431 Request Header Fields Too Large\r\n"), answer);
        assertTrue(answer.contains("\"code\":\"HEADERS_TOO_LARGE\""), answer);
        assertFalse(channel.isOpen());
        assertEquals(1, refused("headers"));
        assertFalse(channel.finishAndReleaseAll());
    }

    @Test
    void aHeadJustUnderTheLimitsPasses() {
        EmbeddedChannel channel = channel();
        ClientChannel.send(channel, "GET /v2/" + "a".repeat(990) + " HTTP/1.1\r\nHost: m\r\nX-One: " + "a".repeat(1900)
                + "\r\n\r\n");
        HttpRequest request = channel.readInbound();
        assertTrue(request.decoderResult().isSuccess());
        assertTrue(request.uri().startsWith("/v2/aaa"));
        assertTrue(channel.<Object>readInbound() instanceof LastHttpContent);
        assertEquals("", ClientChannel.answer(channel));
        assertTrue(channel.isOpen());
        assertEquals(0, refused("headers") + refused("request-line"));
        assertFalse(channel.finishAndReleaseAll());
    }

    @Test
    void otherMalformedRequestsPassOnForTheDecoderToRefuse() {
        EmbeddedChannel channel = channel();
        ClientChannel.send(channel, "GET /v2/ HTTP/1.1\r\nHost: m\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n");
        HttpRequest request = channel.readInbound();
        assertTrue(request.decoderResult().isFailure());
        ReferenceCountUtil.release(request);
        assertEquals("", ClientChannel.answer(channel));
        assertFalse(channel.finishAndReleaseAll());
    }
}
