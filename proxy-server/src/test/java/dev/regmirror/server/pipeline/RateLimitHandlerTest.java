package dev.regmirror.server.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.regmirror.core.testing.TestCredentials;
import dev.regmirror.server.cluster.NodeHandler;
import dev.regmirror.server.http.ErrorResponder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** 429 with Retry-After once an address's burst is spent, on a hand-moved clock; other addresses and later requests pass. */
class RateLimitHandlerTest {

    private final AtomicLong now = new AtomicLong();
    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private final TokenBuckets buckets = new TokenBuckets(0.5, 2, now::get);
    private final RefusalLog refusals = new RefusalLog("registry", now::get, meters);
    private final ErrorResponder errors = new ErrorResponder(new ObjectMapper());

    private EmbeddedChannel channel(String ip) {
        return ClientChannel.from(ip, new RateLimitHandler(buckets, errors, refusals, NodeHandler.fromPeer(SECRET)));
    }

    private static final byte[] SECRET = "a-cluster-secret-of-32-characters".getBytes(StandardCharsets.UTF_8);

    private static FullHttpRequest get(String uri, String authorization) {
        FullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, uri);
        request.headers().set(HttpHeaderNames.AUTHORIZATION, authorization);
        return request;
    }

    private static void passes(EmbeddedChannel channel) {
        channel.writeInbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/v2/"));
        FullHttpRequest request = channel.readInbound();
        assertEquals("/v2/", request.uri());
        request.release();
        assertNull(channel.readOutbound());
    }

    @Test
    void pastTheBurstA429SaysWhenToComeBack() {
        EmbeddedChannel channel = channel("10.0.0.1");
        passes(channel);
        passes(channel);
        channel.writeInbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/v2/"));
        assertNull(channel.readInbound(), "the refused request goes no further");
        FullHttpResponse refused = channel.readOutbound();
        assertEquals(429, refused.status().code());
        assertEquals("2", refused.headers().get(HttpHeaderNames.RETRY_AFTER), "one token every 2 seconds");
        assertTrue(refused.content().toString(StandardCharsets.UTF_8).startsWith(
                "{\"errors\":[{\"code\":\"TOOMANYREQUESTS\",\"message\":\"too many requests from this address: at most 0.5"
                        + " per second after a burst of 2; retry in 2 s\"}]}"), refused.content().toString(StandardCharsets.UTF_8));
        refused.release();
        assertTrue(channel.isOpen(), "a request without a body keeps its connection");

        passes(channel("10.0.0.2"));
        now.addAndGet(TimeUnit.SECONDS.toNanos(2));
        passes(channel);
        assertEquals(1, meters.get("regmirror.client.refusals").tag("kind", "rate").counter().count());
        assertFalse(channel.finishAndReleaseAll());
    }

    @Test
    void theEndOfARefusedRequestIsDroppedAndTheConnectionServesTheNext() {
        EmbeddedChannel channel = channel("10.0.0.1");
        passes(channel);
        passes(channel);
        // As the codec delivers a GET: its head, then an empty end.
        channel.writeInbound(new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/v2/"));
        channel.writeInbound(LastHttpContent.EMPTY_LAST_CONTENT);
        assertNull(channel.readInbound(), "neither the request nor its end goes further");
        FullHttpResponse refused = channel.readOutbound();
        assertEquals(429, refused.status().code());
        refused.release();
        assertTrue(channel.isOpen());
        now.addAndGet(TimeUnit.SECONDS.toNanos(2));
        passes(channel);
        assertFalse(channel.finishAndReleaseAll());
    }

    @Test
    void aRefusedRequestWithABodyClosesItsConnection() {
        EmbeddedChannel channel = channel("10.0.0.1");
        passes(channel);
        passes(channel);
        HttpRequest upload = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/admin/import");
        upload.headers().set(HttpHeaderNames.TRANSFER_ENCODING, "chunked");
        channel.writeInbound(upload);
        assertNull(channel.readInbound());
        FullHttpResponse refused = channel.readOutbound();
        assertEquals(429, refused.status().code());
        assertEquals("close", refused.headers().get(HttpHeaderNames.CONNECTION),
                "rather than read an archive to its end only to drop it");
        refused.release();
        assertFalse(channel.isOpen());
        assertFalse(channel.finishAndReleaseAll());
    }

    @Test
    void aChannelWithoutAnIpAddressIsNotLimited() {
        EmbeddedChannel channel = new EmbeddedChannel(new RateLimitHandler(buckets, errors, refusals, request -> false));
        for (int i = 0; i < 10; i++) {
            channel.writeInbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/v2/"));
            assertInstanceOf(FullHttpRequest.class, channel.<FullHttpRequest>readInbound()).release();
        }
        assertFalse(channel.finishAndReleaseAll());
    }

    @Test
    void aClusterPeersRequestsWithTheSecretPassOnceTheBurstIsSpentAndNoOneElsesDo() {
        EmbeddedChannel peer = channel("10.0.0.7");
        passes(peer);
        passes(peer);
        String blob = "/_regmirror/cluster/docker.io/v2/library/alpine/blobs/sha256:" + "a".repeat(64);
        for (int i = 0; i < 20; i++) { // a node asking its owner for what many of its clients want
            peer.writeInbound(get(blob + (i % 2 == 0 ? "" : "?ns=docker.io"), TestCredentials.basic("regmirror-node",
                    new String(SECRET, StandardCharsets.UTF_8))));
            FullHttpRequest passed = peer.readInbound();
            assertEquals(blob, passed.uri().replace("?ns=docker.io", ""));
            passed.release();
        }
        assertNull(peer.readOutbound());

        for (FullHttpRequest refusedToo : List.of(
                get(blob, TestCredentials.basic("regmirror-node", "a-guessed-secret-of-32-characters")),
                get(blob, TestCredentials.basic("someone", new String(SECRET, StandardCharsets.UTF_8))),
                get("/v2/library/alpine/blobs/sha256:" + "a".repeat(64), TestCredentials.basic("regmirror-node",
                        new String(SECRET, StandardCharsets.UTF_8))))) {
            peer.writeInbound(refusedToo);
            assertNull(peer.readInbound(), refusedToo.uri());
            FullHttpResponse refused = peer.readOutbound();
            assertEquals(429, refused.status().code(), refusedToo.uri());
            refused.release();
        }
        assertEquals(3, meters.get("regmirror.client.refusals").tag("kind", "rate").counter().count());
        assertFalse(peer.finishAndReleaseAll());
    }
}
