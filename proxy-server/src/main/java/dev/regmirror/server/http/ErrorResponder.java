package dev.regmirror.server.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.regmirror.core.error.ProxyException;
import dev.regmirror.core.error.RegistryErrorCode;
import dev.regmirror.core.mirror.Futures;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place that turns a failure into a registry error response
 * ({@code {"errors":[{"code","message","detail"}]}}, as in the
 * <a href="https://github.com/opencontainers/distribution-spec/blob/main/spec.md#error-codes">spec</a>),
 * and logs it once: server-side failures as warnings, client mistakes at debug.
 */
public final class ErrorResponder {

    private static final Logger LOG = LoggerFactory.getLogger(ErrorResponder.class);

    private final ObjectMapper mapper;

    public ErrorResponder(ObjectMapper mapper) {
        this.mapper = mapper;
    }

    /**
     * Answers with the error; anything that is not a {@link ProxyException} becomes 500 UNKNOWN. The
     * future completes when the answer was written.
     */
    public ChannelFuture send(ChannelHandlerContext ctx, HttpMethod method, boolean keepAlive, Throwable failure) {
        return ctx.writeAndFlush(response(method, keepAlive, failure));
    }

    /**
     * The answer {@link #send} writes, for a handler that must return it rather than write it (an
     * aggregator's answer to an {@code Expect} header); logged as {@code send} logs it.
     */
    public FullHttpResponse response(HttpMethod method, boolean keepAlive, Throwable failure) {
        Throwable cause = Futures.unwrap(failure);
        RegistryErrorCode code;
        String message;
        Object detail = null;
        Map<String, String> headers = Map.of();
        if (cause instanceof ProxyException e) {
            code = e.code();
            message = e.getMessage();
            detail = e.detail();
            headers = e.headers();
            if (code.status() >= 500) {
                LOG.warn("{} {}", code, message);
            } else {
                LOG.debug("{} {}", code, message);
            }
        } else {
            code = RegistryErrorCode.UNKNOWN;
            message = "internal error: " + cause;
            LOG.error("request failed", cause);
        }
        ObjectNode body = mapper.createObjectNode();
        ArrayNode errors = body.putArray("errors");
        ObjectNode error = errors.addObject();
        error.put("code", code.name());
        error.put("message", message == null ? code.defaultMessage() : message);
        if (detail != null) {
            error.set("detail", mapper.valueToTree(detail));
        }
        byte[] json;
        try {
            json = mapper.writeValueAsBytes(body);
        } catch (Exception e) {
            json = ("{\"errors\":[{\"code\":\"" + code.name() + "\"}]}").getBytes(StandardCharsets.UTF_8);
        }
        DefaultHttpResponse template =
                new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(code.status()));
        headers.forEach(template.headers()::set);
        if (code == RegistryErrorCode.UNSUPPORTED && !template.headers().contains("Allow")) {
            template.headers().set("Allow", "GET, HEAD");
        }
        return Responses.full(template.status(), "application/json; charset=utf-8", Unpooled.wrappedBuffer(json),
                HttpMethod.HEAD.equals(method), keepAlive, template);
    }
}
