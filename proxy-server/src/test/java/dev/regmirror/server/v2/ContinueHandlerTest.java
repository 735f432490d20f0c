package dev.regmirror.server.v2;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.regmirror.core.config.HostedSettings;
import dev.regmirror.core.upstream.Endpoint;
import dev.regmirror.core.upstream.EndpointSettings;
import dev.regmirror.core.upstream.UpstreamRouter;
import dev.regmirror.core.upstream.UpstreamSettings;
import dev.regmirror.server.http.ErrorResponder;
import dev.regmirror.server.pipeline.V2RequestDecoder;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code Expect: 100-continue}: the decoder marks a push that asks for it, and {@link ContinueHandler}
 * answers {@code 100 Continue} once, when the push reaches it (after access is decided), for blob
 * uploads and manifests alike; a read or a push that did not ask gets none.
 */
class ContinueHandlerTest {

    private final List<Object> passed = new ArrayList<>();
    private final EmbeddedChannel channel = new EmbeddedChannel(
            new V2RequestDecoder(new UpstreamRouter(List.of(new UpstreamSettings("docker.io", List.of(), List.of(),
                    "library", List.of(Endpoint.of(EndpointSettings.anonymous("docker.io", URI.create("http://127.0.0.1:1"),
                    Duration.ofSeconds(1), Duration.ofSeconds(1)))), Duration.ofSeconds(30))), "docker.io", Map.of(),
                    new HostedSettings("local", List.of("lan"), List.of(), Duration.ofHours(1), false, false, 4 << 20)),
                    new ErrorResponder(new ObjectMapper())),
            new ContinueHandler(),
            new ChannelInboundHandlerAdapter() {
                @Override
                public void channelRead(ChannelHandlerContext ctx, Object msg) {
                    passed.add(msg);
                }
            });

    @AfterEach
    void noLeaks() {
        passed.forEach(ReferenceCountUtil::release);
        assertFalse(channel.finishAndReleaseAll());
    }

    @Test
    void aBlobUploadAndAManifestPushThatAskGetOne100ContinueEach() {
        push(HttpMethod.PATCH, "/v2/lan/app/blobs/uploads/0b6c1e9a-4f7d-4c2e-9a51-2f0d7c3e8b11", true);
        assertContinue();
        assertNull(channel.readOutbound(), "once");
        push(HttpMethod.PUT, "/v2/lan/app/manifests/1.0", true);
        assertContinue();
        assertInstanceOf(V2Request.ManifestPut.class, passed.get(2));
    }

    @Test
    void aPushThatDoesNotAskOrARequestWithoutBodyGetsNone() {
        push(HttpMethod.POST, "/v2/lan/app/blobs/uploads/", false);
        DefaultFullHttpRequest read = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/v2/lan/app/blobs/sha256:"
                + "ab".repeat(32));
        read.headers().set(HttpHeaderNames.EXPECT, HttpHeaderValues.CONTINUE);
        channel.writeInbound(read);
        assertNull(channel.readOutbound());
        assertInstanceOf(V2Request.UploadStart.class, passed.get(0));
        assertInstanceOf(V2Request.Blob.class, passed.get(2));
    }

    private void push(HttpMethod method, String uri, boolean expect) {
        HttpRequest head = new DefaultHttpRequest(HttpVersion.HTTP_1_1, method, uri);
        if (expect) {
            head.headers().set(HttpHeaderNames.EXPECT, HttpHeaderValues.CONTINUE);
        }
        channel.writeInbound(head);
        channel.writeInbound(LastHttpContent.EMPTY_LAST_CONTENT);
    }

    private void assertContinue() {
        FullHttpResponse response = channel.readOutbound();
        assertEquals(100, response.status().code());
        response.release();
    }
}
