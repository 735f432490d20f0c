package dev.regmirror.server.pipeline;

import io.micrometer.core.instrument.MeterRegistry;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelPipeline;
import java.util.List;

/**
 * The registry API behind the HTTP front: request metrics, the operator's endpoints, the request
 * decoder, then one handler per resource, and the last-resort handler.
 */
public final class RegistryApi implements ApiPipeline {

    private final OperationsHandler operations;
    private final V2RequestDecoder decoder;
    private final List<ChannelHandler> resources;
    private final MeterRegistry meters;

    /**
     * @param resources one shareable handler per resource, each taking its own {@code V2Request} type
     * @param meters    where each connection's (or stream's) {@link RequestMetricsHandler} records
     */
    public RegistryApi(OperationsHandler operations, V2RequestDecoder decoder, List<ChannelHandler> resources,
                       MeterRegistry meters) {
        this.meters = meters;
        this.operations = operations;
        this.decoder = decoder;
        this.resources = List.copyOf(resources);
    }

    @Override
    public void addTo(ChannelPipeline pipeline) {
        pipeline.addLast("metrics", new RequestMetricsHandler(meters));
        pipeline.addLast("operations", operations);
        pipeline.addLast("decoder", decoder);
        for (ChannelHandler resource : resources) {
            pipeline.addLast(resource);
        }
        HttpBasics.addTail(pipeline);
    }
}
