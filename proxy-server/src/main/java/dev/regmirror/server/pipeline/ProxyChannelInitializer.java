package dev.regmirror.server.pipeline;

import io.micrometer.core.instrument.MeterRegistry;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.SocketChannel;
import java.util.List;

/**
 * The registry API pipeline: the common front ({@link HttpBasics}: client limits, HTTP codec,
 * keep-alive, the access log, a small request aggregator, an idle timeout), request metrics, the
 * operator's endpoints, the request decoder, then one handler per resource.
 */
public final class ProxyChannelInitializer extends ChannelInitializer<SocketChannel> {

    private final HttpBasics basics;
    private final OperationsHandler operations;
    private final V2RequestDecoder decoder;
    private final List<ChannelHandler> resources;
    private final MeterRegistry meters;

    /**
     * @param basics    the registry API listener's own front
     * @param resources one shareable handler per resource, each taking its own {@code V2Request} type
     * @param meters    where each connection's {@link RequestMetricsHandler} records
     */
    public ProxyChannelInitializer(HttpBasics basics, OperationsHandler operations, V2RequestDecoder decoder,
                                   List<ChannelHandler> resources, MeterRegistry meters) {
        this.meters = meters;
        this.basics = basics;
        this.operations = operations;
        this.decoder = decoder;
        this.resources = List.copyOf(resources);
    }

    @Override
    protected void initChannel(SocketChannel channel) {
        ChannelPipeline pipeline = channel.pipeline();
        basics.addTo(pipeline);
        pipeline.addLast("metrics", new RequestMetricsHandler(meters));
        pipeline.addLast("operations", operations);
        pipeline.addLast("decoder", decoder);
        for (ChannelHandler resource : resources) {
            pipeline.addLast(resource);
        }
        basics.addTail(pipeline);
    }
}
