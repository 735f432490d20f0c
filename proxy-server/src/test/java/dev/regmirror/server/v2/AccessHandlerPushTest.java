package dev.regmirror.server.v2;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.benmanes.caffeine.cache.Ticker;
import dev.regmirror.core.auth.AccessControl;
import dev.regmirror.core.auth.AccessPolicy;
import dev.regmirror.core.auth.AccessRule;
import dev.regmirror.core.auth.Accounts;
import dev.regmirror.core.auth.Action;
import dev.regmirror.core.auth.Authorization;
import dev.regmirror.core.auth.ImagePattern;
import dev.regmirror.core.auth.Principal;
import dev.regmirror.core.auth.token.SigningKey;
import dev.regmirror.core.auth.token.TokenService;
import dev.regmirror.core.auth.token.TokenSettings;
import dev.regmirror.core.config.HostedSettings;
import dev.regmirror.core.hosted.UploadId;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.reference.RepositoryName;
import dev.regmirror.core.testing.TestCredentials;
import dev.regmirror.core.upstream.Endpoint;
import dev.regmirror.core.upstream.EndpointSettings;
import dev.regmirror.core.upstream.Route;
import dev.regmirror.core.upstream.UpstreamRouter;
import dev.regmirror.core.upstream.UpstreamSettings;
import dev.regmirror.server.http.ErrorResponder;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpServerKeepAliveHandler;
import io.netty.util.ReferenceCountUtil;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A push's body while its access is decided: held, not read on, and passed on behind its request
 * once allowed; thrown away with the connection when refused. Nothing leaks either way.
 */
class AccessHandlerPushTest {

    private static final Route APP = Route.hosted("local", new RepositoryName("lan/app"));
    private static final UploadId UPLOAD = new UploadId("0b6c1e9a-4f7d-4c2e-9a51-2f0d7c3e8b11");

    @TempDir
    Path dir;

    private final List<Object> passed = new ArrayList<>();
    /** The auth executor's work, run when a test says. */
    private final java.util.ArrayDeque<Runnable> decisions = new java.util.ArrayDeque<>();
    private EmbeddedChannel channel;

    private void start() throws Exception {
        start(AccessHandler.BlobHolders.NONE);
    }

    private void start(AccessHandler.BlobHolders holders) throws Exception {
        Path htpasswd = Files.writeString(dir.resolve("htpasswd"), TestCredentials.htpasswdLine("alice", "alice-pw")
                + "\n" + TestCredentials.htpasswdLine("bob", "bob-pw") + "\n");
        Accounts accounts = Accounts.open(htpasswd, Set.of(), Ticker.systemTicker());
        AccessPolicy policy = new AccessPolicy(List.of(
                new AccessRule(List.of(new ImagePattern("local/lan/bob/**")), Set.of(Action.PULL, Action.PUSH),
                        Optional.of(List.of(Principal.parse("bob"))), List.of()),
                new AccessRule(List.of(new ImagePattern("local/lan/**")), Set.of(Action.PULL, Action.PUSH),
                        Optional.of(List.of(Principal.parse("alice"))), List.of())), Set.of());
        UpstreamRouter router = new UpstreamRouter(List.of(new UpstreamSettings("docker.io", List.of(), List.of(), "library",
                List.of(Endpoint.of(EndpointSettings.anonymous("docker.io", URI.create("http://127.0.0.1:1"),
                        Duration.ofSeconds(1), Duration.ofSeconds(1)))), Duration.ofSeconds(30))), "docker.io", Map.of(),
                new HostedSettings("local", List.of("lan"), List.of(), Duration.ofHours(1), false, false, 4 << 20));
        TokenService tokens = new TokenService(TokenSettings.defaults(), SigningKey.generate(), policy, router,
                Clock.systemUTC(), Ticker.systemTicker());
        channel = new EmbeddedChannel(new HttpServerKeepAliveHandler(), new AccessHandler(
                new AccessControl(accounts, policy, tokens), tokens, Set.of(), holders, decisions::add,
                new ErrorResponder(new ObjectMapper())),
                new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        passed.add(msg);
                    }
                });
    }

    @AfterEach
    void noLeaks() {
        passed.forEach(ReferenceCountUtil::release);
        assertFalse(channel.finishAndReleaseAll());
    }

    private static V2Request.UploadChunk chunk(String user, String password) {
        Authorization authorization = Authorization.parse("Basic " + Base64.getEncoder()
                .encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8)));
        return new V2Request.UploadChunk(HttpMethod.PATCH, true, APP, UPLOAD, Optional.empty(), OptionalLong.of(6),
                new V2Request.Written("/v2/", "lan/app", Optional.empty()), new V2Request.Origin(authorization,
                Optional.of("mirror.lan")));
    }

    /** Runs the decisions asked for, and their answers on the event loop. */
    private void decide() {
        Runnable decision;
        while ((decision = decisions.poll()) != null) {
            decision.run();
        }
        channel.runPendingTasks();
    }

    /** The head and body arrive in one read, before the decision. */
    private void arrive(V2Request.UploadChunk request) {
        channel.writeInbound(request, new DefaultHttpContent(Unpooled.copiedBuffer("abc", StandardCharsets.UTF_8)),
                new DefaultLastHttpContent(Unpooled.copiedBuffer("def", StandardCharsets.UTF_8)));
    }

    @Test
    void aMountNamingNoRepositoryTakesItsBlobOnlyFromOneThePusherMayRead() throws Exception {
        Digest blob = Digest.sha256Of("layer".getBytes(StandardCharsets.UTF_8));
        Route held = Route.hosted("local", new RepositoryName("lan/app"));
        start(digest -> digest.equals(blob) ? List.of(held) : List.of());

        channel.writeInbound(mount("alice", new RepositoryName("lan/copy"), blob), new DefaultLastHttpContent());
        decide();
        assertEquals(Optional.of(held), ((V2Request.UploadStart) passed.get(0)).from(), "alice may pull lan/app");

        channel.writeInbound(mount("bob", new RepositoryName("lan/bob/copy"), blob), new DefaultLastHttpContent());
        decide();
        assertEquals(Optional.empty(), ((V2Request.UploadStart) passed.get(2)).from(),
                "bob may not pull lan/app: no source, so an ordinary upload");
    }

    private static V2Request.UploadStart mount(String user, RepositoryName name, Digest blob) {
        Authorization authorization = Authorization.parse("Basic " + Base64.getEncoder()
                .encodeToString((user + ":" + user + "-pw").getBytes(StandardCharsets.UTF_8)));
        return new V2Request.UploadStart(HttpMethod.POST, true, Route.hosted("local", name), Optional.empty(),
                Optional.of(blob), Optional.empty(), OptionalLong.of(0),
                new V2Request.Written("/v2/", name.value(), Optional.empty()),
                new V2Request.Origin(authorization, Optional.of("mirror.lan")));
    }

    @Test
    void anAllowedPushGetsItsBodyBehindItInOrder() throws Exception {
        start();
        arrive(chunk("alice", "alice-pw"));
        assertFalse(channel.config().isAutoRead(), "no more of the body is read while it is decided");
        assertEquals(List.of(), passed, "held until decided");

        decide();

        assertInstanceOf(V2Request.UploadChunk.class, passed.get(0));
        assertEquals("abc", ((HttpContent) passed.get(1)).content().toString(StandardCharsets.UTF_8));
        assertInstanceOf(DefaultLastHttpContent.class, passed.get(2));
        assertEquals(3, passed.size());
        assertTrue(channel.config().isAutoRead());
        assertTrue(channel.isOpen());
    }

    @Test
    void aRefusedPushIsAnsweredItsBodyDroppedAndTheConnectionClosed() throws Exception {
        start();
        arrive(chunk("bob", "bob-pw"));
        decide();

        FullHttpResponse response = channel.readOutbound();
        assertEquals(403, response.status().code());
        assertTrue(response.content().toString(StandardCharsets.UTF_8).contains("DENIED"));
        response.release();
        assertEquals(List.of(), passed, "nothing of a refused push goes on");
        assertFalse(channel.isOpen());
    }

    @Test
    void aWrongPasswordIsSentForATokenWithPushInTheScope() throws Exception {
        start();
        arrive(chunk("alice", "wrong"));
        decide();

        FullHttpResponse response = channel.readOutbound();
        assertEquals(401, response.status().code());
        assertEquals("Bearer realm=\"http://mirror.lan/token\",service=\"regmirror\",scope=\"repository:local/lan/app:pull,push\"",
                response.headers().get("WWW-Authenticate"));
        response.release();
        assertFalse(channel.isOpen());
    }
}
