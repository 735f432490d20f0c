package dev.regmirror.server.pipeline;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.regmirror.server.http.ErrorResponder;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerKeepAliveHandler;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The front of one regmirror listener's pipeline: the cap on connections per client, HTTP codec
 * (with the head size limits), keep-alive, the access log, the head timeout, answers to oversized
 * heads, the rate limit, a small request aggregator (requests have no bodies worth streaming), and
 * closing idle connections. One per listener: each counts its own clients' connections and requests.
 */
public final class HttpBasics {

    private static final int MAX_REQUEST_BYTES = 64 * 1024;
    private static final UnhandledErrorHandler UNHANDLED = new UnhandledErrorHandler();

    private final Duration idleTimeout;
    private final LimitSettings limits;
    private final ErrorResponder errors;
    private final RefusalLog refusals;
    private final ConnectionCapHandler connections;
    private final OversizedHeadHandler oversizedHeads;
    /** Null when requests are not limited. */
    private final TokenBuckets buckets;

    public HttpBasics(Duration idleTimeout, LimitSettings limits, ErrorResponder errors, RefusalLog refusals,
                      Ticker ticker) {
        this.idleTimeout = idleTimeout;
        this.limits = limits;
        this.errors = errors;
        this.refusals = refusals;
        this.connections = new ConnectionCapHandler(limits.connectionsPerClient(), refusals);
        this.oversizedHeads = new OversizedHeadHandler(limits.maxRequestLine(), limits.maxHeaderSize(), errors, refusals);
        this.buckets = limits.rateLimited()
                ? new TokenBuckets(limits.requestsPerSecond(), limits.requestBurst(), ticker) : null;
    }

    /** Adds the handler that closes a connection whose request failed unanswered, after the listener's own. */
    public void addTail(ChannelPipeline pipeline) {
        pipeline.addLast("unhandled", UNHANDLED);
    }

    /** Adds the common handlers to a new channel's pipeline, before the listener's own. */
    public void addTo(ChannelPipeline pipeline) {
        pipeline.addLast("connections", connections);
        pipeline.addLast("codec", new HttpServerCodec(new HttpDecoderConfig()
                .setMaxInitialLineLength(limits.maxRequestLine()).setMaxHeaderSize(limits.maxHeaderSize())));
        pipeline.addLast("keep-alive", new HttpServerKeepAliveHandler());
        // Before the aggregator, so requests handled ahead of it (a streamed import) and answers the
        // aggregator gives itself (413) are logged too, and so are the refusals below.
        pipeline.addLast("access-log", new AccessLogHandler());
        pipeline.addLast("head-timeout", new HeadTimeoutHandler(limits.headerTimeout(), errors, refusals));
        pipeline.addLast("oversized-heads", oversizedHeads);
        if (buckets != null) {
            pipeline.addLast("rate-limit", new RateLimitHandler(buckets, errors, refusals));
        }
        pipeline.addLast("aggregator", new HttpObjectAggregator(MAX_REQUEST_BYTES));
        pipeline.addLast("idle", new IdleStateHandler(0, 0, idleTimeout.toMillis(), TimeUnit.MILLISECONDS) {
            @Override
            protected void channelIdle(ChannelHandlerContext ctx, IdleStateEvent event) {
                ctx.close();
            }
        });
    }
}
