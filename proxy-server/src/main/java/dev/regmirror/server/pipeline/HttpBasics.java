package dev.regmirror.server.pipeline;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.regmirror.server.http.ErrorResponder;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerKeepAliveHandler;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * The front of one listener's pipelines, before its API's handlers: the cap on connections per
 * client and the access log's read gate (on the connection), then for each HTTP/1.1 connection or HTTP/2 stream the codec (with
 * the head size limits), keep-alive, the access log, the head timeout, answers to oversized heads,
 * the network rule, the rate limit, a small request aggregator (that leaves the bodies of pushes
 * to stream, {@link StreamingAggregator}), and closing idle channels. One per listener: each counts its own clients'
 * connections and requests.
 */
public final class HttpBasics {

    private static final int MAX_REQUEST_BYTES = 64 * 1024;
    private static final UnhandledErrorHandler UNHANDLED = new UnhandledErrorHandler();

    private final Duration idleTimeout;
    private final LimitSettings limits;
    private final ErrorResponder errors;
    private final RefusalLog refusals;
    private final AccessLog accessLog;
    private final ConnectionCapHandler connections;
    private final OversizedHeadHandler oversizedHeads;
    /** Null when requests are not limited. */
    private final TokenBuckets buckets;
    /** Null when the listener serves every address. */
    private final ChannelHandler allowedClients;
    private final Predicate<HttpRequest> unlimited;

    /**
     * @param accessLog      where the access-log lines of every listener go
     * @param allowedClients the listener's network rule, or null when it serves every address
     * @param unlimited      requests the rate limit does not count: a cluster peer's
     */
    public HttpBasics(Duration idleTimeout, LimitSettings limits, ErrorResponder errors, RefusalLog refusals,
                      AccessLog accessLog, Ticker ticker, ChannelHandler allowedClients,
                      Predicate<HttpRequest> unlimited) {
        this.idleTimeout = idleTimeout;
        this.accessLog = accessLog;
        this.limits = limits;
        this.errors = errors;
        this.refusals = refusals;
        this.allowedClients = allowedClients;
        this.unlimited = unlimited;
        this.connections = new ConnectionCapHandler(limits.connectionsPerClient(), refusals);
        this.oversizedHeads = new OversizedHeadHandler(limits.maxRequestLine(), limits.maxHeaderSize(), errors, refusals);
        this.buckets = limits.rateLimited()
                ? new TokenBuckets(limits.requestsPerSecond(), limits.requestBurst(), ticker) : null;
    }

    /** Adds the handler that closes a connection whose request failed unanswered, after the API's own. */
    public static void addTail(ChannelPipeline pipeline) {
        pipeline.addLast("unhandled", UNHANDLED);
    }

    /**
     * Adds what holds for the whole connection, before anything reads it (TLS included): the cap per
     * client, and the gate that stops its reads while the access log catches up.
     */
    public void addConnectionTo(ChannelPipeline pipeline) {
        pipeline.addLast("connections", connections);
        if (accessLog.enabled()) {
            pipeline.addLast("access-log-gate", accessLog.gate());
        }
    }

    /** Adds the front of an HTTP/1.1 connection. */
    public void addTo(ChannelPipeline pipeline) {
        pipeline.addLast("codec", new HttpServerCodec(new HttpDecoderConfig()
                .setMaxInitialLineLength(limits.maxRequestLine()).setMaxHeaderSize(limits.maxHeaderSize())));
        pipeline.addLast("keep-alive", new HttpServerKeepAliveHandler());
        // Before the aggregator, so requests handled ahead of it (a streamed import) and answers the
        // aggregator gives itself (413) are logged too, and so are the refusals below.
        pipeline.addLast("access-log", new AccessLogHandler(accessLog));
        pipeline.addLast("head-timeout", new HeadTimeoutHandler(limits.headerTimeout(), errors, refusals));
        pipeline.addLast("oversized-heads", oversizedHeads);
        addRequestRules(pipeline);
    }

    /**
     * Adds the front of one HTTP/2 stream (a request and its response), as {@link #addTo} for a
     * connection. Its head came whole in one HEADERS block, bounded by the connection's settings:
     * no head timeout, no oversized-head answers.
     */
    public void addStreamTo(ChannelPipeline pipeline) {
        pipeline.addLast("codec", new Http2StreamFrameToHttpObjectCodec(true));
        pipeline.addLast("access-log", new AccessLogHandler(accessLog));
        addRequestRules(pipeline);
    }

    private void addRequestRules(ChannelPipeline pipeline) {
        if (allowedClients != null) {
            pipeline.addLast("allowed-clients", allowedClients);
        }
        if (buckets != null) {
            pipeline.addLast("rate-limit", new RateLimitHandler(buckets, errors, refusals, unlimited));
        }
        pipeline.addLast("aggregator", new StreamingAggregator(MAX_REQUEST_BYTES, errors));
        pipeline.addLast("idle", idleCloser(idleTimeout));
    }

    /** The largest head an HTTP/2 client may send, as for an HTTP/1.1 head. */
    public int maxHeaderSize() {
        return limits.maxHeaderSize();
    }

    /** Closes the channel (a connection, or one HTTP/2 stream) after this long without a read or a write. */
    public static ChannelHandler idleCloser(Duration idleTimeout) {
        return new IdleStateHandler(0, 0, idleTimeout.toMillis(), TimeUnit.MILLISECONDS) {
            @Override
            protected void channelIdle(ChannelHandlerContext ctx, IdleStateEvent event) {
                ctx.close();
            }
        };
    }

    /** How long an idle channel lives. */
    public Duration idleTimeout() {
        return idleTimeout;
    }
}
