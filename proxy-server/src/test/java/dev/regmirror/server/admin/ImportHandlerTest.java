package dev.regmirror.server.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.regmirror.server.http.ErrorResponder;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The parts of {@link ImportHandler} that decide before any disk work: what passes, what is refused. */
class ImportHandlerTest {

    private static EmbeddedChannel channel(Optional<String> token) {
        ErrorResponder errors = new ErrorResponder(new ObjectMapper());
        Runnable never = () -> {
            throw new AssertionError("no disk work for a request that is not imported");
        };
        return new EmbeddedChannel(new ImportHandler(new AdminAuthHandler(token, errors), null, task -> never.run(), task -> never.run(),
                Path.of("unused"), Duration.ofSeconds(30), new ObjectMapper(), errors));
    }

    private static HttpRequest request(HttpMethod method, String uri, String authorization) {
        HttpRequest request = new DefaultHttpRequest(HttpVersion.HTTP_1_1, method, uri);
        if (authorization != null) {
            request.headers().set("Authorization", authorization);
        }
        return request;
    }

    private static String refusal(EmbeddedChannel channel, int status) {
        FullHttpResponse response = channel.readOutbound();
        assertEquals(status, response.status().code());
        String body = response.content().toString(StandardCharsets.UTF_8);
        response.release();
        assertNull(channel.readInbound(), "nothing passed on");
        return body;
    }

    @Test
    void otherPathsPassUntouched() {
        EmbeddedChannel channel = channel(Optional.empty());
        HttpRequest request = request(HttpMethod.GET, "/admin/images?prefix=docker.io/", null);
        DefaultLastHttpContent content = new DefaultLastHttpContent(Unpooled.copiedBuffer("x", StandardCharsets.UTF_8));
        channel.writeInbound(request, content);
        assertSame(request, channel.readInbound());
        LastHttpContent passed = channel.readInbound();
        assertSame(content, passed);
        passed.release();
        assertFalse(channel.finishAndReleaseAll());
    }

    @Test
    void aWrongTokenIsRefusedOnceTheBodyIsDropped() {
        EmbeddedChannel channel = channel(Optional.of("s3cret"));
        channel.writeInbound(request(HttpMethod.POST, "/admin/import", "Bearer nope"),
                new DefaultHttpContent(Unpooled.copiedBuffer("part of a tar", StandardCharsets.UTF_8)));
        assertNull(channel.readOutbound(), "the answer waits for the end of the body");
        channel.writeInbound(new DefaultLastHttpContent(Unpooled.copiedBuffer("the rest", StandardCharsets.UTF_8)));
        String body = refusal(channel, 401);
        assertTrue(body.contains("UNAUTHORIZED") && body.contains("wrong admin token"), body);
        assertFalse(channel.finishAndReleaseAll());
    }

    @Test
    void onlyPostImportsAndNotFromAfarWithoutAToken() {
        EmbeddedChannel withToken = channel(Optional.of("s3cret"));
        withToken.writeInbound(request(HttpMethod.GET, "/admin/import", "Bearer s3cret"), LastHttpContent.EMPTY_LAST_CONTENT);
        String body = refusal(withToken, 405);
        assertTrue(body.contains("UNSUPPORTED") && body.contains("GET /admin/import is not supported"), body);
        assertFalse(withToken.finishAndReleaseAll());

        EmbeddedChannel noToken = channel(Optional.empty());
        noToken.writeInbound(request(HttpMethod.POST, "/admin/import", null), LastHttpContent.EMPTY_LAST_CONTENT);
        body = refusal(noToken, 401);
        assertTrue(body.contains("loopback clients only"), body);
        assertFalse(noToken.finishAndReleaseAll());
    }
}
