package dev.regmirror.server.pipeline;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerKeepAliveHandler;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The HTTP front of every listener, before its API's handlers: the codec (HTTP/1.1 with keep-alive,
 * or an HTTP/2 stream's frames as HTTP objects), the access log, the listener's network rule, a
 * small request aggregator (requests have no bodies worth streaming), closing idle channels.
 */
public final class HttpBasics {

    private static final int MAX_REQUEST_BYTES = 64 * 1024;
    private static final UnhandledErrorHandler UNHANDLED = new UnhandledErrorHandler();

    private HttpBasics() {
    }

    /** Adds the handler that closes a connection whose request failed unanswered, after the API's own. */
    public static void addTail(ChannelPipeline pipeline) {
        pipeline.addLast("unhandled", UNHANDLED);
    }

    /**
     * Adds the front of an HTTP/1.1 connection.
     *
     * @param allowedClients the listener's network rule, or null when it serves every address
     */
    public static void addTo(ChannelPipeline pipeline, Duration idleTimeout, ChannelHandler allowedClients) {
        pipeline.addLast("codec", new HttpServerCodec());
        pipeline.addLast("keep-alive", new HttpServerKeepAliveHandler());
        addCommon(pipeline, idleTimeout, allowedClients);
    }

    /** Adds the front of one HTTP/2 stream (a request and its response), as {@link #addTo} for a connection. */
    public static void addStreamTo(ChannelPipeline pipeline, Duration idleTimeout, ChannelHandler allowedClients) {
        pipeline.addLast("codec", new Http2StreamFrameToHttpObjectCodec(true));
        addCommon(pipeline, idleTimeout, allowedClients);
    }

    private static void addCommon(ChannelPipeline pipeline, Duration idleTimeout, ChannelHandler allowedClients) {
        // Before the aggregator, so requests handled ahead of it (a streamed import), answers the
        // aggregator gives itself (413) and refused clients are logged too.
        pipeline.addLast("access-log", new AccessLogHandler());
        if (allowedClients != null) {
            pipeline.addLast("allowed-clients", allowedClients);
        }
        pipeline.addLast("aggregator", new HttpObjectAggregator(MAX_REQUEST_BYTES));
        pipeline.addLast("idle", idleCloser(idleTimeout));
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
}
