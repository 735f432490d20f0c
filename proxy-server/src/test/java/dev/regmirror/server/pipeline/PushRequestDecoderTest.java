package dev.regmirror.server.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.regmirror.core.auth.Action;
import dev.regmirror.core.config.HostedSettings;
import dev.regmirror.core.upstream.Endpoint;
import dev.regmirror.core.upstream.EndpointSettings;
import dev.regmirror.core.upstream.UpstreamRouter;
import dev.regmirror.core.upstream.UpstreamSettings;
import dev.regmirror.server.http.ErrorResponder;
import dev.regmirror.server.v2.V2Request;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpServerKeepAliveHandler;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Pushes as the decoder passes them on: the request, then its streamed body; what each needs the
 * rules to allow; the URLs answers give back; and the refusals of writes that cannot be.
 */
class PushRequestDecoderTest {

    private static final String DIGEST = "sha256:" + "ab".repeat(32);
    private static final String UPLOAD = "0b6c1e9a-4f7d-4c2e-9a51-2f0d7c3e8b11";

    private final List<Object> passed = new ArrayList<>();
    private final EmbeddedChannel channel = new EmbeddedChannel(new HttpServerKeepAliveHandler(),
            new V2RequestDecoder(new UpstreamRouter(List.of(upstream("docker.io", "library")), "docker.io",
                    java.util.Map.of(), new HostedSettings("local", List.of("lan"), List.of(), Duration.ofHours(1),
                    false, false, 4 << 20)), new ErrorResponder(new ObjectMapper())),
            new ChannelInboundHandlerAdapter() {
                @Override
                public void channelRead(ChannelHandlerContext ctx, Object msg) {
                    passed.add(msg);
                }
            });

    private static UpstreamSettings upstream(String registry, String prefix) {
        return new UpstreamSettings(registry, List.of(), List.of(), prefix, List.of(Endpoint.of(EndpointSettings.anonymous(
                registry, URI.create("http://127.0.0.1:1"), Duration.ofSeconds(1), Duration.ofSeconds(1)))),
                Duration.ofSeconds(30));
    }

    @AfterEach
    void noLeaks() {
        passed.forEach(ReferenceCountUtil::release);
        assertFalse(channel.finishAndReleaseAll());
    }

    /** A push as HTTP/1.1 brings it: the head, then its body in parts. */
    private void stream(HttpMethod method, String uri, String... parts) {
        HttpRequest head = new DefaultHttpRequest(HttpVersion.HTTP_1_1, method, uri);
        channel.writeInbound(head);
        for (String part : parts) {
            channel.writeInbound(new DefaultHttpContent(Unpooled.copiedBuffer(part, StandardCharsets.UTF_8)));
        }
        channel.writeInbound(LastHttpContent.EMPTY_LAST_CONTENT);
    }

    @Test
    void anUploadChunkPassesOnWithItsBodyBehindIt() {
        stream(HttpMethod.PATCH, "/v2/lan/app/blobs/uploads/" + UPLOAD + "?ns=local", "abc", "def");
        V2Request.UploadChunk chunk = assertInstanceOf(V2Request.UploadChunk.class, passed.get(0));
        assertEquals("local/lan/app", chunk.route().toString());
        assertTrue(chunk.route().hosted());
        assertEquals(UPLOAD, chunk.id().value());
        assertEquals("/v2/lan/app/blobs/uploads/" + UPLOAD + "?ns=local", chunk.written().url("blobs/uploads/" + UPLOAD));
        assertEquals(List.of(new V2Request.Access(chunk.route(), Action.PUSH)), chunk.access());
        assertEquals("abc", ((HttpContent) passed.get(1)).content().toString(StandardCharsets.UTF_8));
        assertEquals("def", ((HttpContent) passed.get(2)).content().toString(StandardCharsets.UTF_8));
        assertInstanceOf(LastHttpContent.class, passed.get(3));
    }

    @Test
    void aMountNeedsPushHereAndPullWhereItComesFrom() {
        stream(HttpMethod.POST, "/v2/lan/app/blobs/uploads/?mount=" + DIGEST + "&from=library/alpine");
        V2Request.UploadStart start = assertInstanceOf(V2Request.UploadStart.class, passed.get(0));
        assertEquals(DIGEST, start.mount().orElseThrow().toString());
        assertEquals("docker.io/library/alpine", start.from().orElseThrow().toString());
        assertEquals(List.of(new V2Request.Access(start.route(), Action.PUSH),
                new V2Request.Access(start.from().orElseThrow(), Action.PULL)), start.access());
    }

    @Test
    void anHttp2PushWhoseBodyCameWithItsHeadPassesOnAsRequestAndBody() {
        DefaultFullHttpRequest whole = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.PUT,
                "/v2/lan/app/manifests/1.0", Unpooled.copiedBuffer("{}", StandardCharsets.UTF_8));
        whole.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/vnd.oci.image.manifest.v1+json");
        channel.writeInbound(whole);
        V2Request.ManifestPut put = assertInstanceOf(V2Request.ManifestPut.class, passed.get(0));
        assertEquals(Optional.of("application/vnd.oci.image.manifest.v1+json"), put.contentType());
        assertEquals("{}", ((LastHttpContent) passed.get(1)).content().toString(StandardCharsets.UTF_8));
    }

    @ParameterizedTest(name = "{0} {1} -> {2} {3}")
    @CsvSource({
        "PUT,    /v2/library/alpine/manifests/1,       405, UNSUPPORTED",
        "POST,   /v2/alpine/blobs/uploads/,            405, UNSUPPORTED",
        "PATCH,  /v2/lan/app/blobs/uploads/nope,       404, BLOB_UPLOAD_UNKNOWN",
        "PUT,    /v2/lan/app/blobs/uploads/" + UPLOAD + ", 400, DIGEST_INVALID",
        "PUT,    /v2/lan/app/manifests/-bad,           400, TAG_INVALID",
        "PUT,    /v2/_catalog,                         405, UNSUPPORTED",
        "POST,   /v2/lan/app/tags/list,                405, UNSUPPORTED",
    })
    void aRefusedPushIsAnsweredAtOnceAndItsConnectionClosed(String method, String uri, int status, String code)
            throws Exception {
        channel.writeInbound(new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.valueOf(method), uri));
        FullHttpResponse response = channel.readOutbound();
        assertEquals(status, response.status().code());
        assertTrue(response.content().toString(StandardCharsets.UTF_8).contains("\"" + code + "\""),
                response.content().toString(StandardCharsets.UTF_8));
        response.release();
        assertFalse(channel.isOpen(), "its body was not read: the connection ends");
        assertTrue(passed.stream().noneMatch(V2Request.class::isInstance));
    }

    @Test
    void aBlobOrManifestDeleteOnAHostedNameIsDecoded() {
        channel.writeInbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.DELETE,
                "/v2/lan/app/manifests/" + DIGEST));
        channel.writeInbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.DELETE,
                "/v2/lan/app/blobs/" + DIGEST));
        V2Request.Delete manifest = assertInstanceOf(V2Request.Delete.class, passed.get(0));
        assertTrue(manifest.manifest().isPresent());
        V2Request.Delete blob = assertInstanceOf(V2Request.Delete.class, passed.get(1));
        assertEquals(DIGEST, blob.blob().orElseThrow().toString());
        assertEquals(List.of(new V2Request.Access(blob.route(), Action.DELETE)), blob.access());
    }
}
