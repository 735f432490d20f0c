package dev.regmirror.server.pipeline;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerKeepAliveHandler;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The front of every regmirror listener's pipeline: HTTP codec, keep-alive, the access log, a small
 * request aggregator (requests have no bodies worth streaming), closing idle connections.
 */
public final class HttpBasics {

    private static final int MAX_REQUEST_BYTES = 64 * 1024;

    private HttpBasics() {
    }

    private static final UnhandledErrorHandler UNHANDLED = new UnhandledErrorHandler();

    /** Adds the handler that closes a connection whose request failed unanswered, after the listener's own. */
    public static void addTail(ChannelPipeline pipeline) {
        pipeline.addLast("unhandled", UNHANDLED);
    }

    /** Adds the common handlers to a new channel's pipeline, before the listener's own. */
    public static void addTo(ChannelPipeline pipeline, Duration idleTimeout) {
        pipeline.addLast("codec", new HttpServerCodec());
        pipeline.addLast("keep-alive", new HttpServerKeepAliveHandler());
        // Before the aggregator, so requests handled ahead of it (a streamed import) and answers the
        // aggregator gives itself (413) are logged too.
        pipeline.addLast("access-log", new AccessLogHandler());
        pipeline.addLast("aggregator", new HttpObjectAggregator(MAX_REQUEST_BYTES));
        pipeline.addLast("idle", new IdleStateHandler(0, 0, idleTimeout.toMillis(), TimeUnit.MILLISECONDS) {
            @Override
            protected void channelIdle(ChannelHandlerContext ctx, IdleStateEvent event) {
                ctx.close();
            }
        });
    }
}
