package dev.regmirror.server.admin;

import dev.regmirror.core.auth.Accounts;
import dev.regmirror.core.auth.Authorization;
import dev.regmirror.core.auth.Verification;
import dev.regmirror.core.error.InvalidRequestException;
import dev.regmirror.core.error.RegistryErrorCode;
import dev.regmirror.core.mirror.Futures;
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
import java.util.concurrent.Executor;

/**
 * Lets an admin request through with {@code Authorization: Bearer <token>} equal to the configured
 * token (compared in constant time), with Basic credentials of an account the settings make an
 * administrator (checked on the auth executor: bcrypt is slow), or, when no token is configured,
 * from a loopback address; anything else is 401 UNAUTHORIZED (403 DENIED for an account that is
 * not an administrator) and goes no further.
 */
@Sharable
public final class AdminAuthHandler extends ChannelInboundHandlerAdapter {

    private static final String BEARER = "Bearer ";

    private final Optional<byte[]> expected;
    private final Accounts accounts;
    private final Executor authExecutor;
    private final ErrorResponder errors;

    public AdminAuthHandler(Optional<String> token, Accounts accounts, Executor authExecutor, ErrorResponder errors) {
        this.expected = token.map(AdminAuthHandler::sha256);
        this.accounts = accounts;
        this.authExecutor = authExecutor;
        this.errors = errors;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof FullHttpRequest request)) {
            ctx.fireChannelRead(msg);
            return;
        }
        String header = request.headers().get(HttpHeaderNames.AUTHORIZATION);
        if (accounts.size() > 0 && Authorization.parse(header) instanceof Authorization.Basic basic) {
            Futures.supplyOn(authExecutor, () -> accounts.verify(basic.credentials())).whenComplete((verification,
                    failure) -> ctx.executor().execute(() -> {
                        if (failure == null && verification instanceof Verification.Verified verified
                                && verified.account().admin()) {
                            ctx.fireChannelRead(msg);
                            return;
                        }
                        refuse(ctx, request, failure != null ? new InvalidRequestException(RegistryErrorCode.UNKNOWN,
                                "checking the credentials failed: " + failure)
                                : verification instanceof Verification.Verified verified
                                ? new InvalidRequestException(RegistryErrorCode.DENIED, "account "
                                        + verified.account().name() + " is not an administrator")
                                : new InvalidRequestException(RegistryErrorCode.UNAUTHORIZED, "wrong user name or password"));
                    }));
            return;
        }
        String refusal = refusal(ctx, header);
        if (refusal == null) {
            ctx.fireChannelRead(msg);
            return;
        }
        refuse(ctx, request, new InvalidRequestException(RegistryErrorCode.UNAUTHORIZED, refusal));
    }

    private void refuse(ChannelHandlerContext ctx, FullHttpRequest request, InvalidRequestException why) {
        boolean keepAlive = HttpUtil.isKeepAlive(request);
        request.release();
        errors.send(ctx, request.method(), keepAlive, why);
    }

    /** Why the request may not pass, or null if it may. */
    String refusal(ChannelHandlerContext ctx, String authorization) {
        if (expected.isEmpty()) {
            return ctx.channel().remoteAddress() instanceof InetSocketAddress inet && inet.getAddress() != null
                    && inet.getAddress().isLoopbackAddress()
                    ? null : "the admin API without a token answers loopback clients only";
        }
        if (authorization == null || !authorization.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
            return accounts.size() > 0 ? "the admin API needs Authorization: Bearer <token>, or an administrator's"
                    + " user name and password" : "the admin API needs Authorization: Bearer <token>";
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
