package dev.regmirror.server.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.regmirror.core.auth.Accounts;
import dev.regmirror.server.console.ConsoleSessions;
import dev.regmirror.server.http.ErrorResponder;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class AdminAuthHandlerTest {

    private static final ConsoleSessions SESSIONS = new ConsoleSessions(new SecureRandom(), Clock.systemUTC());

    private static EmbeddedChannel channel(Optional<String> token) {
        return new EmbeddedChannel(new AdminAuthHandler(token, Accounts.none(), Runnable::run,
                new ErrorResponder(new ObjectMapper()), SESSIONS));
    }

    private static FullHttpRequest request(String authorization) {
        return request(HttpMethod.GET, authorization);
    }

    private static FullHttpRequest request(HttpMethod method, String authorization, String... headers) {
        FullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, method, "/admin/usage");
        for (int i = 0; i < headers.length; i += 2) {
            request.headers().set(headers[i], headers[i + 1]);
        }
        if (authorization != null) {
            request.headers().set("Authorization", authorization);
        }
        return request;
    }

    private static void assertRefused(EmbeddedChannel channel, String message) {
        assertRefused(channel, 401, "UNAUTHORIZED", message);
    }

    private static void assertRefused(EmbeddedChannel channel, int status, String code, String message) {
        FullHttpResponse response = channel.readOutbound();
        assertEquals(status, response.status().code());
        String body = response.content().toString(StandardCharsets.UTF_8);
        response.release();
        assertTrue(body.contains("\"code\":\"" + code + "\"") && body.contains(message), body);
        assertNull(channel.readInbound(), "nothing passed on");
    }

    private static void assertPassed(EmbeddedChannel channel) {
        FullHttpRequest passed = channel.readInbound();
        assertEquals("/admin/usage", passed.uri());
        passed.release();
    }

    @Test
    void aConsoleSessionReadsWithItsCookieAndChangesThingsOnlyWithItsCsrfToken() {
        EmbeddedChannel channel = channel(Optional.of("s3cret"));
        ConsoleSessions.Session session = SESSIONS.open("admin token");
        String cookie = ConsoleSessions.COOKIE + "=" + session.id();
        channel.writeInbound(request(HttpMethod.GET, null, "Cookie", "theme=dark; " + cookie));
        assertPassed(channel);
        channel.writeInbound(request(HttpMethod.POST, null, "Cookie", cookie));
        assertRefused(channel, 403, "DENIED", "CSRF token is missing or wrong");
        channel.writeInbound(request(HttpMethod.DELETE, null, "Cookie", cookie, ConsoleSessions.CSRF_HEADER, "x" + session.csrf()));
        assertRefused(channel, 403, "DENIED", "CSRF token is missing or wrong");
        channel.writeInbound(request(HttpMethod.DELETE, null, "Cookie", cookie, ConsoleSessions.CSRF_HEADER, session.csrf()));
        assertPassed(channel);
        channel.writeInbound(request(HttpMethod.GET, null, "Cookie", ConsoleSessions.COOKIE + "=forged"));
        assertRefused(channel, "needs Authorization: Bearer");
        SESSIONS.close(session);
        channel.writeInbound(request(HttpMethod.GET, null, "Cookie", cookie));
        assertRefused(channel, "needs Authorization: Bearer");
        assertFalse(channel.finishAndReleaseAll());
    }

    @Test
    void aChangeABrowserSentFromAnotherSiteIsRefusedWhateverItCarries() {
        EmbeddedChannel channel = channel(Optional.of("s3cret"));
        channel.writeInbound(request(HttpMethod.POST, "Bearer s3cret", "Host", "mirror:5050", "Origin", "http://evil:80"));
        assertRefused(channel, 403, "DENIED", "from another origin (http://evil:80)");
        channel.writeInbound(request(HttpMethod.POST, "Bearer s3cret", "Sec-Fetch-Site", "same-site"));
        assertRefused(channel, 403, "DENIED", "Sec-Fetch-Site: same-site");
        channel.writeInbound(request(HttpMethod.POST, "Bearer s3cret", "Host", "mirror:5050", "Origin", "null"));
        assertRefused(channel, 403, "DENIED", "from another origin (null)");
        channel.writeInbound(request(HttpMethod.POST, "Bearer s3cret", "Host", "mirror:5050",
                "Origin", "https://mirror:5050", "Sec-Fetch-Site", "same-origin"));
        assertPassed(channel);
        channel.writeInbound(request(HttpMethod.GET, "Bearer s3cret", "Sec-Fetch-Site", "cross-site"));
        assertPassed(channel);
        assertFalse(channel.finishAndReleaseAll());
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

    @Test
    void withoutATokenOnlyLoopbackNamesAreTakenAsThisMachineNeverADnsName() {
        for (String host : new String[] {"127.0.0.1:5050", "127.0.0.1", "127.1.2.3:5050", "localhost:5050",
                "LOCALHOST", "localhost.", "admin.localhost:5050", "[::1]:5050", "[::1]", "[0:0:0:0:0:0:0:1]"}) {
            assertTrue(AdminAuthHandler.loopbackName(host), host);
        }
        for (String host : new String[] {"rebind.example:5050", "rebind.example", "127.0.0.1.rebind.example:5050",
                "localhost.rebind.example", "10.0.0.1:5050", "[2001:db8::1]:5050", "[::1", "", "my-laptop:5050"}) {
            assertFalse(AdminAuthHandler.loopbackName(host), host);
        }
    }
}
