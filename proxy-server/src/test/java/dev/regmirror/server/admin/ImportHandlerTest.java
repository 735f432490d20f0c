package dev.regmirror.server.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.regmirror.core.auth.Accounts;
import dev.regmirror.core.storage.CacheLayout;
import dev.regmirror.server.console.ConsoleSessions;
import dev.regmirror.server.http.ErrorResponder;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link ImportHandler} on an EmbeddedChannel: what passes, what is refused, and which executor does what. */
class ImportHandlerTest {

    private static final ConsoleSessions SESSIONS = new ConsoleSessions(new SecureRandom(), Clock.systemUTC());

    private static EmbeddedChannel channel(Optional<String> token) {
        ErrorResponder errors = new ErrorResponder(new ObjectMapper());
        Runnable never = () -> {
            throw new AssertionError("no disk work for a request that is not imported");
        };
        return new EmbeddedChannel(new ImportHandler(new AdminAuthHandler(token, Accounts.none(), Runnable::run, errors, SESSIONS), null, task -> never.run(), task -> never.run(),
                new CacheLayout(Path.of("unused")), Duration.ofSeconds(30), new ObjectMapper(), errors));
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
        FullHttpResponse response = withToken.readOutbound();
        assertEquals(405, response.status().code());
        assertEquals("POST", response.headers().get("Allow"));
        String body = response.content().toString(StandardCharsets.UTF_8);
        response.release();
        assertTrue(body.contains("UNSUPPORTED") && body.contains("GET /admin/import is not supported"), body);
        assertFalse(withToken.finishAndReleaseAll());

        EmbeddedChannel noToken = channel(Optional.empty());
        noToken.writeInbound(request(HttpMethod.POST, "/admin/import", null), LastHttpContent.EMPTY_LAST_CONTENT);
        body = refusal(noToken, 401);
        assertTrue(body.contains("loopback clients only"), body);
        assertFalse(noToken.finishAndReleaseAll());
    }

    /** Runs the disk and maintenance work at once, recording which executor got how much of it. */
    private static final class Recording implements Executor {
        final List<Runnable> tasks = new ArrayList<>();
        final boolean run;

        Recording(boolean run) {
            this.run = run;
        }

        @Override
        public void execute(Runnable task) {
            tasks.add(task);
            if (run) {
                task.run();
            }
        }
    }

    /** The cache's {@code ingest/}, created as the blob store creates it. */
    private static Path ingestOf(Path cache) {
        try {
            return Files.createDirectories(new CacheLayout(cache).ingest());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static EmbeddedChannel importing(Executor disk, Executor maintenance, Path ingest) {
        ErrorResponder errors = new ErrorResponder(new ObjectMapper());
        return new EmbeddedChannel(new ImportHandler(new AdminAuthHandler(Optional.of("s3cret"), Accounts.none(), Runnable::run, errors, SESSIONS), null, disk,
                maintenance, new CacheLayout(ingest.getParent()), Duration.ofSeconds(30), new ObjectMapper(), errors));
    }

    private static JsonNode error(EmbeddedChannel channel, int status) throws Exception {
        channel.runPendingTasks();
        FullHttpResponse response = channel.readOutbound();
        assertEquals(status, response.status().code());
        JsonNode body = new ObjectMapper().readTree(response.content().toString(StandardCharsets.UTF_8));
        response.release();
        return body.path("errors").path(0);
    }

    @Test
    void anEmptyBodyIsBodyInvalid(@TempDir Path cache) throws Exception {
        Path ingest = ingestOf(cache);
        EmbeddedChannel channel = importing(Runnable::run, Runnable::run, ingest);
        channel.writeInbound(request(HttpMethod.POST, "/admin/import", "Bearer s3cret"), LastHttpContent.EMPTY_LAST_CONTENT);
        JsonNode error = error(channel, 400);
        assertEquals("BODY_INVALID", error.path("code").asText());
        assertTrue(error.path("message").asText().contains("the request has no body"), error.toString());
        try (Stream<Path> left = Files.list(ingest)) {
            assertEquals(List.of(), left.toList(), "no ingest file is left");
        }
        assertFalse(channel.finishAndReleaseAll());
    }

    @Test
    void aConsoleSessionImportsWithItsCsrfTokenOnly(@TempDir Path cache) throws Exception {
        ConsoleSessions.Session session = SESSIONS.open("admin token");
        String cookie = ConsoleSessions.COOKIE + "=" + session.id();

        EmbeddedChannel withoutCsrf = importing(Runnable::run, Runnable::run, ingestOf(cache));
        HttpRequest forged = request(HttpMethod.POST, "/admin/import", null);
        forged.headers().set("Cookie", cookie);
        withoutCsrf.writeInbound(forged, LastHttpContent.EMPTY_LAST_CONTENT);
        JsonNode error = error(withoutCsrf, 403);
        assertEquals("DENIED", error.path("code").asText());
        assertTrue(error.path("message").asText().contains("CSRF"), error.toString());
        assertFalse(withoutCsrf.finishAndReleaseAll());

        EmbeddedChannel crossSite = importing(Runnable::run, Runnable::run, ingestOf(cache));
        HttpRequest fromAfar = request(HttpMethod.POST, "/admin/import", null);
        fromAfar.headers().set("Cookie", cookie).set(ConsoleSessions.CSRF_HEADER, session.csrf())
                .set("Sec-Fetch-Site", "cross-site");
        crossSite.writeInbound(fromAfar, LastHttpContent.EMPTY_LAST_CONTENT);
        assertEquals("DENIED", error(crossSite, 403).path("code").asText());
        assertFalse(crossSite.finishAndReleaseAll());

        EmbeddedChannel withCsrf = importing(Runnable::run, Runnable::run, ingestOf(cache));
        HttpRequest fromTheConsole = request(HttpMethod.POST, "/admin/import", null);
        fromTheConsole.headers().set("Cookie", cookie).set(ConsoleSessions.CSRF_HEADER, session.csrf())
                .set("Sec-Fetch-Site", "same-origin");
        withCsrf.writeInbound(fromTheConsole, LastHttpContent.EMPTY_LAST_CONTENT);
        JsonNode passed = error(withCsrf, 400);
        assertTrue(passed.path("message").asText().contains("the request has no body"), "it got past the checks: "
                + passed);
        assertFalse(withCsrf.finishAndReleaseAll());
    }

    /** Netty's decoder ends a body it cannot read (a broken chunk) with a failed LastHttpContent: not an archive. */
    @Test
    void aBodyTheDecoderCouldNotReadIsRefusedAndItsFileDeleted(@TempDir Path cache) throws Exception {
        Path ingest = ingestOf(cache);
        Recording maintenance = new Recording(false);
        EmbeddedChannel channel = importing(Runnable::run, maintenance, ingest);
        channel.writeInbound(request(HttpMethod.POST, "/admin/import", "Bearer s3cret"),
                new DefaultHttpContent(Unpooled.copiedBuffer("the start of a tar", StandardCharsets.UTF_8)));
        try (Stream<Path> written = Files.list(ingest)) {
            assertEquals(1, written.count(), "the first chunk was written to an ingest file");
        }
        LastHttpContent broken = new DefaultLastHttpContent();
        broken.setDecoderResult(DecoderResult.failure(new IllegalArgumentException("invalid chunk size")));
        channel.writeInbound(broken);
        JsonNode error = error(channel, 400);
        assertEquals("BODY_INVALID", error.path("code").asText());
        assertTrue(error.path("message").asText().contains("invalid chunk size"), error.toString());
        assertEquals(List.of(), maintenance.tasks, "nothing was imported");
        try (Stream<Path> left = Files.list(ingest)) {
            assertEquals(List.of(), left.toList(), "the ingest file is deleted");
        }
        assertFalse(channel.finishAndReleaseAll());
    }

    /** Only the per-chunk writes use the shared disk threads; reading and importing the archive is maintenance work. */
    @Test
    void theImportItselfRunsOnTheMaintenanceExecutor(@TempDir Path cache) {
        Path ingest = ingestOf(cache);
        Recording disk = new Recording(true);
        Recording maintenance = new Recording(false);
        EmbeddedChannel channel = importing(disk, maintenance, ingest);
        channel.writeInbound(request(HttpMethod.POST, "/admin/import", "Bearer s3cret"),
                new DefaultHttpContent(Unpooled.copiedBuffer("one", StandardCharsets.UTF_8)),
                new DefaultLastHttpContent(Unpooled.copiedBuffer("two", StandardCharsets.UTF_8)));
        channel.runPendingTasks();
        assertEquals(2, disk.tasks.size(), "one write per chunk on the disk executor, nothing else");
        assertEquals(1, maintenance.tasks.size(), "the import waits on the maintenance executor");
        assertNull(channel.readOutbound(), "no answer before the import ran");
        channel.close();
        assertFalse(channel.finishAndReleaseAll());
    }
}
