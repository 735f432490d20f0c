package dev.regmirror.server.pipeline;

import io.netty.channel.ChannelHandler;
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
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The registry API pipeline: HTTP codec, keep-alive, a small request aggregator (requests have no
 * bodies worth streaming), an idle timeout, the access log, the operator's endpoints, the request
 * decoder, then one handler per resource.
 */
public final class ProxyChannelInitializer extends ChannelInitializer<SocketChannel> {

    private static final int MAX_REQUEST_BYTES = 64 * 1024;

    private final Duration idleTimeout;
    private final OperationsHandler operations;
    private final V2RequestDecoder decoder;
    private final List<ChannelHandler> resources;

    /**
     * @param resources one shareable handler per resource, each taking its own {@code V2Request} type
     */
    public ProxyChannelInitializer(Duration idleTimeout, OperationsHandler operations, V2RequestDecoder decoder,
                                   List<ChannelHandler> resources) {
        this.idleTimeout = idleTimeout;
        this.operations = operations;
        this.decoder = decoder;
        this.resources = List.copyOf(resources);
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
        pipeline.addLast("operations", operations);
        pipeline.addLast("decoder", decoder);
        for (ChannelHandler resource : resources) {
            pipeline.addLast(resource);
        }
    }
}
