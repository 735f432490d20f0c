package dev.regmirror.server.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.regmirror.core.auth.Accounts;
import dev.regmirror.server.http.ErrorResponder;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class AdminAuthHandlerTest {

    private static EmbeddedChannel channel(Optional<String> token) {
        return new EmbeddedChannel(new AdminAuthHandler(token, Accounts.none(), Runnable::run, new ErrorResponder(new ObjectMapper()), new dev.regmirror.server.console.ConsoleSessions(new java.security.SecureRandom(), java.time.Clock.systemUTC())));
    }

    private static FullHttpRequest request(String authorization) {
        FullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/admin/usage");
        if (authorization != null) {
            request.headers().set("Authorization", authorization);
        }
        return request;
    }

    private static void assertRefused(EmbeddedChannel channel, String message) {
        FullHttpResponse response = channel.readOutbound();
        assertEquals(401, response.status().code());
        String body = response.content().toString(StandardCharsets.UTF_8);
        response.release();
        assertTrue(body.contains("\"code\":\"UNAUTHORIZED\"") && body.contains(message), body);
        assertNull(channel.readInbound(), "nothing passed on");
    }

    @Test
    void theRightTokenPassesTheRequestOn() {
        EmbeddedChannel channel = channel(Optional.of("s3cret"));
        channel.writeInbound(request("Bearer s3cret"));
        FullHttpRequest passed = channel.readInbound();
        assertEquals("/admin/usage", passed.uri());
        passed.release();
        assertFalse(channel.finishAndReleaseAll());
    }

    @Test
    void aMissingOrWrongTokenIs401() {
        EmbeddedChannel channel = channel(Optional.of("s3cret"));
        channel.writeInbound(request(null));
        assertRefused(channel, "needs Authorization: Bearer");
        channel.writeInbound(request("Basic czNjcmV0"));
        assertRefused(channel, "needs Authorization: Bearer");
        channel.writeInbound(request("Bearer s3cret-and-more"));
        assertRefused(channel, "wrong admin token");
        assertFalse(channel.finishAndReleaseAll());
    }

    @Test
    void withoutATokenOnlyLoopbackClientsPass() {
        EmbeddedChannel channel = channel(Optional.empty());
        channel.writeInbound(request(null));
        assertRefused(channel, "loopback clients only");
        assertFalse(channel.finishAndReleaseAll());
    }
}
