package dev.regmirror.server.admin;

import dev.regmirror.core.error.InvalidRequestException;
import dev.regmirror.core.error.RegistryErrorCode;
import dev.regmirror.server.http.ErrorResponder;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpUtil;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Optional;

/**
 * Lets an admin request through only with {@code Authorization: Bearer <token>} equal to the
 * configured token (compared in constant time), or, when no token is configured, only from a
 * loopback address; anything else is 401 UNAUTHORIZED and goes no further.
 */
@Sharable
public final class AdminAuthHandler extends ChannelInboundHandlerAdapter {

    private static final String BEARER = "Bearer ";

    private final Optional<byte[]> expected;
    private final ErrorResponder errors;

    public AdminAuthHandler(Optional<String> token, ErrorResponder errors) {
        this.expected = token.map(AdminAuthHandler::sha256);
        this.errors = errors;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof FullHttpRequest request)) {
            ctx.fireChannelRead(msg);
            return;
        }
        String refusal = refusal(ctx, request.headers().get(HttpHeaderNames.AUTHORIZATION));
        if (refusal == null) {
            ctx.fireChannelRead(msg);
            return;
        }
        boolean keepAlive = HttpUtil.isKeepAlive(request);
        request.release();
        errors.send(ctx, request.method(), keepAlive, new InvalidRequestException(RegistryErrorCode.UNAUTHORIZED, refusal));
    }

    /** Why the request may not pass, or null if it may. */
    String refusal(ChannelHandlerContext ctx, String authorization) {
        if (expected.isEmpty()) {
            return ctx.channel().remoteAddress() instanceof InetSocketAddress inet && inet.getAddress() != null
                    && inet.getAddress().isLoopbackAddress()
                    ? null : "the admin API without a token answers loopback clients only";
        }
        if (authorization == null || !authorization.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
            return "the admin API needs Authorization: Bearer <token>";
        }
        byte[] given = sha256(authorization.substring(BEARER.length()).trim());
        return MessageDigest.isEqual(given, expected.get()) ? null : "wrong admin token";
    }

    /** Hashed first so that the comparison takes the same time whatever the lengths. */
    private static byte[] sha256(String token) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
