package dev.regmirror.server.admin;

import dev.regmirror.server.pipeline.AccessLogHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerKeepAliveHandler;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The admin API pipeline: HTTP codec, keep-alive, a small aggregator, an idle timeout, the access
 * log, the token check, the request decoder, then one handler per resource.
 */
public final class AdminChannelInitializer extends ChannelInitializer<SocketChannel> {

    private static final int MAX_REQUEST_BYTES = 64 * 1024;

    private final Duration idleTimeout;
    private final AdminAuthHandler auth;
    private final AdminRequestDecoder decoder;
    private final UsageHandler usage;
    private final ImagesHandler images;

    public AdminChannelInitializer(Duration idleTimeout, AdminAuthHandler auth, AdminRequestDecoder decoder,
                                   UsageHandler usage, ImagesHandler images) {
        this.idleTimeout = idleTimeout;
        this.auth = auth;
        this.decoder = decoder;
        this.usage = usage;
        this.images = images;
    }

    @Override
    protected void initChannel(SocketChannel channel) {
        ChannelPipeline pipeline = channel.pipeline();
        pipeline.addLast("codec", new HttpServerCodec());
        pipeline.addLast("keep-alive", new HttpServerKeepAliveHandler());
        pipeline.addLast("aggregator", new HttpObjectAggregator(MAX_REQUEST_BYTES));
        pipeline.addLast("idle", new IdleStateHandler(0, 0, idleTimeout.toMillis(), TimeUnit.MILLISECONDS) {
            @Override
            protected void channelIdle(ChannelHandlerContext ctx, IdleStateEvent event) {
                ctx.close();
            }
        });
        pipeline.addLast("access-log", new AccessLogHandler());
        pipeline.addLast("auth", auth);
        pipeline.addLast("decoder", decoder);
        pipeline.addLast("usage", usage);
        pipeline.addLast("images", images);
    }
}
