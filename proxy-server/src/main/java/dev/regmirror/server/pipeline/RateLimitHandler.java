package dev.regmirror.server.pipeline;

import dev.regmirror.core.error.InvalidRequestException;
import dev.regmirror.core.error.RegistryErrorCode;
import dev.regmirror.server.http.ErrorResponder;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.net.InetAddress;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * Takes a token from the client address's bucket for every request; a request without one is
 * answered 429 TOOMANYREQUESTS with {@code Retry-After} (whole seconds) and goes no further. A
 * refused request with a body closes its connection rather than have the body read only to be
 * dropped. Requests {@code unlimited} picks (a cluster peer's) take no token. One instance per connection.
 */
public final class RateLimitHandler extends ChannelInboundHandlerAdapter {

    private final TokenBuckets buckets;
    private final ErrorResponder errors;
    private final RefusalLog refusals;
    private final Predicate<HttpRequest> unlimited;
    /** Whether the rest of a refused request is still arriving. */
    private boolean dropping;

    public RateLimitHandler(TokenBuckets buckets, ErrorResponder errors, RefusalLog refusals,
                            Predicate<HttpRequest> unlimited) {
        this.buckets = buckets;
        this.errors = errors;
        this.refusals = refusals;
        this.unlimited = unlimited;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpRequest request) {
            InetAddress client = ClientAddress.of(ctx.channel());
            long wait = client == null || unlimited.test(request) ? 0 : buckets.take(client);
            if (wait == 0) {
                dropping = false;
                ctx.fireChannelRead(msg);
                return;
            }
            dropping = !(msg instanceof LastHttpContent);
            refuse(ctx, request, wait);
            ReferenceCountUtil.release(msg);
            return;
        }
        if (dropping && msg instanceof HttpContent) {
            dropping = !(msg instanceof LastHttpContent);
            ReferenceCountUtil.release(msg);
            return;
        }
        ctx.fireChannelRead(msg);
    }

    private void refuse(ChannelHandlerContext ctx, HttpRequest request, long waitNanos) {
        long seconds = Math.max(1, (waitNanos + TimeUnit.SECONDS.toNanos(1) - 1) / TimeUnit.SECONDS.toNanos(1));
        refusals.refused(RefusalLog.Kind.RATE, ctx.channel(),
                "answered 429: over {} requests per second after a burst of {} (regmirror.server.limits.requests-per-second,"
                        + " request-burst)", buckets.perSecond(), buckets.burst());
        // A body would have to be read to its end before the next request: close instead.
        boolean keepAlive = HttpUtil.isKeepAlive(request) && !HttpUtil.isTransferEncodingChunked(request)
                && HttpUtil.getContentLength(request, 0L) == 0;
        ChannelFuture sent = errors.send(ctx, request.method(), keepAlive, new InvalidRequestException(
                RegistryErrorCode.TOOMANYREQUESTS, "too many requests from this address: at most " + buckets.perSecond()
                + " per second after a burst of " + buckets.burst() + "; retry in " + seconds + " s", null,
                Map.of("Retry-After", String.valueOf(seconds))));
        if (!keepAlive) {
            sent.addListener(ChannelFutureListener.CLOSE);
        }
    }
}
