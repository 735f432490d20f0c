package dev.regmirror.server.pipeline;

import dev.regmirror.core.error.InvalidRequestException;
import dev.regmirror.core.error.RegistryErrorCode;
import dev.regmirror.server.http.ErrorResponder;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.LastHttpContent;
import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Closes a connection that has not sent a whole request head within
 * {@code regmirror.server.limits.header-timeout} of opening, or of the first byte of a later
 * request: with 408 REQUEST_TIMEOUT if part of a head came, without a word if it was only idle. A
 * kept-alive connection waiting for its next request is left to the idle timeout, as Go's server
 * and nginx do, so clients that pool connections (Docker, containerd) keep them. A request whose
 * head arrived is not timed, however long its body or its answer takes. One instance per
 * connection, after the HTTP codec.
 */
public final class HeadTimeoutHandler extends ChannelDuplexHandler {

    private static final Logger LOG = LoggerFactory.getLogger(HeadTimeoutHandler.class);

    private final Duration timeout;
    private final ErrorResponder errors;
    private final RefusalLog refusals;

    /** Requests whose answer has not yet been sent in full. */
    private int unanswered;
    /** Whether bytes came since the timer started: part of the next head. */
    private boolean headStarted;
    /** Whether the response being written is an interim one (100 Continue), which answers nothing. */
    private boolean interim;
    /** Whether every request so far is answered and no byte of the next has come: not timed. */
    private boolean betweenRequests;
    /** Whether a read is being handled (from its first message to its channelReadComplete). */
    private boolean reading;
    /**
     * Whether every request was answered during the read that brought the last one (an answer
     * from memory): the bytes of that read were the request itself, not the start of the next.
     */
    private boolean answeredWhileReading;
    private ScheduledFuture<?> timer;

    public HeadTimeoutHandler(Duration timeout, ErrorResponder errors, RefusalLog refusals) {
        this.timeout = timeout;
        this.errors = errors;
        this.refusals = refusals;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        if (ctx.channel().isActive() && ctx.channel().isRegistered()) {
            start(ctx);
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        start(ctx);
        super.channelActive(ctx);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        reading = true;
        if (msg instanceof HttpRequest) {
            unanswered++;
            betweenRequests = false;
            stop();
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (betweenRequests && !answeredWhileReading) {
            // The first bytes of the next request, not yet a whole head: time it from here.
            betweenRequests = false;
            start(ctx);
        }
        reading = false;
        answeredWhileReading = false;
        if (timer != null) {
            headStarted = true;
        }
        ctx.fireChannelReadComplete();
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof HttpResponse response) {
            interim = response.status().codeClass() == HttpStatusClass.INFORMATIONAL;
        }
        if (!(msg instanceof LastHttpContent) || interim) {
            ctx.write(msg, promise);
            return;
        }
        ctx.write(msg, promise.unvoid()).addListener(written -> {
            if (written.isSuccess() && --unanswered <= 0) {
                unanswered = 0;
                betweenRequests = timer == null;
                answeredWhileReading = reading;
            }
        });
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        stop();
        super.channelInactive(ctx);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        stop();
    }

    private void start(ChannelHandlerContext ctx) {
        headStarted = false;
        if (timer == null) {
            timer = ctx.executor().schedule(() -> expired(ctx), timeout.toNanos(), TimeUnit.NANOSECONDS);
        }
    }

    private void stop() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    private void expired(ChannelHandlerContext ctx) {
        timer = null;
        if (!headStarted) {
            LOG.debug("closing the idle connection from {}: no request within {}", ctx.channel().remoteAddress(),
                LimitSettings.describe(timeout));
            ctx.close();
            return;
        }
        refusals.refused(RefusalLog.Kind.HEAD_TIMEOUT, ctx.channel(),
                "answered 408 and closed the connection: no whole request head within {} (regmirror.server.limits.header-timeout)",
                LimitSettings.describe(timeout));
        errors.send(ctx, HttpMethod.GET, false, new InvalidRequestException(RegistryErrorCode.REQUEST_TIMEOUT,
                "no whole request head arrived within " + LimitSettings.describe(timeout)))
                .addListener(ChannelFutureListener.CLOSE);
    }
}
