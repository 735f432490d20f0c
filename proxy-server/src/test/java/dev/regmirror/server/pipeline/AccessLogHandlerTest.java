package dev.regmirror.server.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
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
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** The access log says what went out: complete responses with their bytes, and cut-off ones as aborted. */
class AccessLogHandlerTest {

    private final Logger access = (Logger) LoggerFactory.getLogger("regmirror.access");
    private final ListAppender<ILoggingEvent> lines = new ListAppender<>();
    private Level previous;

    @BeforeEach
    void capture() {
        previous = access.getLevel();
        access.setLevel(Level.INFO);
        lines.start();
        access.addAppender(lines);
    }

    @AfterEach
    void release() {
        access.detachAppender(lines);
        access.setLevel(previous);
    }

    private static void respond(EmbeddedChannel channel, boolean finish) {
        channel.writeOutbound(new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK));
        channel.writeOutbound(new DefaultHttpContent(Unpooled.wrappedBuffer(new byte[1000])));
        if (finish) {
            channel.writeOutbound(LastHttpContent.EMPTY_LAST_CONTENT);
        }
    }

    private List<String> messages() {
        return lines.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
    }

    @Test
    void aCompleteResponseIsOneLineWithItsBytes() {
        EmbeddedChannel channel = new EmbeddedChannel(new AccessLogHandler());
        channel.writeInbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/v2/x/blobs/y"));
        ReferenceCountUtil.release(channel.readInbound());
        respond(channel, true);
        assertEquals(1, messages().size(), messages().toString());
        assertTrue(messages().get(0).matches("embedded \"GET /v2/x/blobs/y\" 200 1000 \\d+ms"), messages().get(0));
        channel.finishAndReleaseAll();
    }

    @Test
    void a100ContinueIsNoLineOfItsOwnAndThePushIsLoggedWithItsFinalStatus() {
        EmbeddedChannel channel = new EmbeddedChannel(new AccessLogHandler());
        channel.writeInbound(new io.netty.handler.codec.http.DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.PATCH,
                "/v2/lan/app/blobs/uploads/u"));
        ReferenceCountUtil.release(channel.readInbound());
        channel.writeOutbound(new io.netty.handler.codec.http.DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                io.netty.handler.codec.http.HttpResponseStatus.CONTINUE));
        assertEquals(List.of(), messages());
        channel.writeOutbound(new io.netty.handler.codec.http.DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                io.netty.handler.codec.http.HttpResponseStatus.ACCEPTED));
        assertEquals(1, messages().size(), messages().toString());
        assertTrue(messages().get(0).matches("embedded \"PATCH /v2/lan/app/blobs/uploads/u\" 202 0 \\d+ms"),
                messages().get(0));
        channel.finishAndReleaseAll();
    }

    @Test
    void aResponseCutOffByTheConnectionClosingIsLoggedAsAborted() {
        EmbeddedChannel channel = new EmbeddedChannel(new AccessLogHandler());
        channel.writeInbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/v2/x/blobs/y"));
        ReferenceCountUtil.release(channel.readInbound());
        respond(channel, false);
        assertEquals(List.of(), messages());
        channel.close();
        assertEquals(1, messages().size(), messages().toString());
        assertTrue(messages().get(0).endsWith("ms aborted"), messages().get(0));
        assertTrue(messages().get(0).contains(" 200 1000 "), messages().get(0));
        channel.finishAndReleaseAll();
    }

    @Test
    void aClientThatLeftBeforeAnyAnswerIsStillLogged() {
        EmbeddedChannel channel = new EmbeddedChannel(new AccessLogHandler());
        channel.writeInbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/v2/x/manifests/1"));
        ReferenceCountUtil.release(channel.readInbound());
        channel.close();
        assertEquals(1, messages().size(), messages().toString());
        assertTrue(messages().get(0).matches("embedded \"GET /v2/x/manifests/1\" - 0 \\d+ms aborted"), messages().get(0));
        channel.finishAndReleaseAll();
    }

    @Test
    void aRequestLineTooLongToReadIsNotLoggedAsTheCodecsStandIn() {
        EmbeddedChannel channel = new EmbeddedChannel(new AccessLogHandler());
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
