package dev.regmirror.server.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.ReferenceCountUtil;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The access log says what went out: complete responses with their bytes, and cut-off ones as aborted. */
class AccessLogHandlerTest {

    private static final String PREFIX = "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}(Z|[+-]\\d\\d:\\d\\d)"
            + " INFO  regmirror\\.access - ";

    private final ByteArrayOutputStream written = new ByteArrayOutputStream();
    private final AccessLog log = new AccessLog(written, 16, new SimpleMeterRegistry());

    private static void respond(EmbeddedChannel channel, boolean finish) {
        channel.writeOutbound(new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK));
        channel.writeOutbound(new DefaultHttpContent(Unpooled.wrappedBuffer(new byte[1000])));
        if (finish) {
            channel.writeOutbound(LastHttpContent.EMPTY_LAST_CONTENT);
        }
    }

    /** The lines written, once the writer has written every line handed to it and stopped; the time and logger checked. */
    private List<String> messages() {
        log.close();
        List<String> lines = Arrays.asList(written.toString(StandardCharsets.UTF_8).split("\n", -1));
        assertEquals("", lines.get(lines.size() - 1), "every line ends with a newline");
        lines = lines.subList(0, lines.size() - 1);
        lines.forEach(line -> assertTrue(line.matches(PREFIX + ".*"), line));
        return lines.stream().map(line -> line.replaceFirst(PREFIX, "")).toList();
    }

    @Test
    void aCompleteResponseIsOneLineWithItsBytes() {
        EmbeddedChannel channel = new EmbeddedChannel(new AccessLogHandler(log));
        channel.writeInbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/v2/x/blobs/y"));
        ReferenceCountUtil.release(channel.readInbound());
        respond(channel, true);
        assertEquals(1, messages().size(), messages().toString());
        assertTrue(messages().get(0).matches("embedded \"GET /v2/x/blobs/y\" 200 1000 \\d+ms"), messages().get(0));
        channel.finishAndReleaseAll();
    }

    @Test
    void a100ContinueIsNoLineOfItsOwnAndThePushIsLoggedWithItsFinalStatus() {
        EmbeddedChannel channel = new EmbeddedChannel(new AccessLogHandler(log));
        channel.writeInbound(new io.netty.handler.codec.http.DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.PATCH,
                "/v2/lan/app/blobs/uploads/u"));
        ReferenceCountUtil.release(channel.readInbound());
        channel.writeOutbound(new io.netty.handler.codec.http.DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                io.netty.handler.codec.http.HttpResponseStatus.CONTINUE));
        assertEquals(0, log.accepted());
        channel.writeOutbound(new io.netty.handler.codec.http.DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                io.netty.handler.codec.http.HttpResponseStatus.ACCEPTED));
        assertEquals(1, messages().size(), messages().toString());
        assertTrue(messages().get(0).matches("embedded \"PATCH /v2/lan/app/blobs/uploads/u\" 202 0 \\d+ms"),
                messages().get(0));
        channel.finishAndReleaseAll();
    }

    @Test
    void aResponseCutOffByTheConnectionClosingIsLoggedAsAborted() {
        EmbeddedChannel channel = new EmbeddedChannel(new AccessLogHandler(log));
        channel.writeInbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/v2/x/blobs/y"));
        ReferenceCountUtil.release(channel.readInbound());
        respond(channel, false);
        assertEquals(0, log.accepted());
        channel.close();
        assertEquals(1, messages().size(), messages().toString());
        assertTrue(messages().get(0).endsWith("ms aborted"), messages().get(0));
        assertTrue(messages().get(0).contains(" 200 1000 "), messages().get(0));
        channel.finishAndReleaseAll();
    }

    @Test
    void aClientThatLeftBeforeAnyAnswerIsStillLogged() {
        EmbeddedChannel channel = new EmbeddedChannel(new AccessLogHandler(log));
        channel.writeInbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/v2/x/manifests/1"));
        ReferenceCountUtil.release(channel.readInbound());
        channel.close();
        assertEquals(1, messages().size(), messages().toString());
        assertTrue(messages().get(0).matches("embedded \"GET /v2/x/manifests/1\" - 0 \\d+ms aborted"), messages().get(0));
        channel.finishAndReleaseAll();
    }

    @Test
    void aRequestLineTooLongToReadIsNotLoggedAsTheCodecsStandIn() {
        EmbeddedChannel channel = new EmbeddedChannel(new AccessLogHandler(log));
        DefaultFullHttpRequest standIn = new DefaultFullHttpRequest(HttpVersion.HTTP_1_0, HttpMethod.GET, "/bad-request");
        standIn.setDecoderResult(DecoderResult.failure(new TooLongHttpLineException("An HTTP line is larger than 8192 bytes.")));
        channel.writeInbound(standIn);
        ReferenceCountUtil.release(channel.readInbound());
        channel.writeOutbound(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.REQUEST_URI_TOO_LONG));
        ReferenceCountUtil.release(channel.readOutbound());
        assertEquals(1, messages().size(), messages().toString());
        assertTrue(messages().get(0).matches("embedded \"- -\" 414 0 \\d+ms"), messages().get(0));
        assertFalse(channel.finishAndReleaseAll());
    }
}
