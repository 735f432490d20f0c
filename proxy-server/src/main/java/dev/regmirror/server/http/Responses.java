package dev.regmirror.server.http;

import dev.regmirror.core.error.Printable;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;

/** Builds and sends the responses every resource shares: API version header, length, keep-alive. */
public final class Responses {

    public static final String API_VERSION_HEADER = "Docker-Distribution-API-Version";
    public static final String API_VERSION = "registry/2.0";
    public static final String CONTENT_DIGEST_HEADER = "Docker-Content-Digest";

    private Responses() {
    }

    /** The JSON bytes of a tree the handler built; such trees always serialize. */
    public static byte[] json(com.fasterxml.jackson.databind.ObjectMapper mapper, com.fasterxml.jackson.databind.JsonNode tree) {
        try {
            return mapper.writeValueAsBytes(tree);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("cannot serialize " + tree, e);
        }
    }

    /**
     * The {@code Warning} of an answer served from the cache because the upstream could not confirm
     * it: {@code 299 - "regmirror: served from cache, the upstream could not confirm it: <why>"}.
     */
    public static String staleWarning(String why) {
        return "299 - \"regmirror: served from cache, the upstream could not confirm it: "
                + Printable.of(why).replace('"', '\'') + "\"";
    }

    /** Adds the headers of every registry API response. */
    public static <T extends HttpResponse> T withApiHeaders(T response, boolean keepAlive) {
        response.headers().set(API_VERSION_HEADER, API_VERSION);
        HttpUtil.setKeepAlive(response, keepAlive);
        return response;
    }

    /**
     * Sends a whole response; for HEAD the body is dropped but Content-Length still says what GET
     * would send. The future completes when it was written.
     */
    public static ChannelFuture sendFull(ChannelHandlerContext ctx, HttpResponseStatus status, String contentType,
                                ByteBuf body, boolean head, boolean keepAlive, HttpResponse headersFrom) {
        return ctx.writeAndFlush(full(status, contentType, body, head, keepAlive, headersFrom));
    }

    /** The whole response {@link #sendFull} sends, for a handler that must return it rather than write it. */
    public static FullHttpResponse full(HttpResponseStatus status, String contentType, ByteBuf body, boolean head,
                                        boolean keepAlive, HttpResponse headersFrom) {
        int length = body.readableBytes();
        ByteBuf content = body;
        if (head) {
            body.release();
            content = Unpooled.EMPTY_BUFFER;
        }
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, content);
        if (headersFrom != null) {
            response.headers().set(headersFrom.headers());
        }
        if (contentType != null) {
            response.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
        }
        response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, length);
        return withApiHeaders(response, keepAlive);
    }
}
