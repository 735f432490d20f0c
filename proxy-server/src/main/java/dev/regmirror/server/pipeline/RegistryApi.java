package dev.regmirror.server.pipeline;

import io.micrometer.core.instrument.MeterRegistry;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelPipeline;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * The registry API behind the HTTP front: request metrics, the operator's endpoints, a cluster's
 * node-to-node endpoint, the {@code OCI-Namespace} echo, the request decoder, then one handler per
 * resource, and the last-resort handler.
 */
public final class RegistryApi implements ApiPipeline {

    private final OperationsHandler operations;
    private final V2RequestDecoder decoder;
    private final List<ChannelHandler> resources;
    private final RequestMetricsHandler.Timers timers;
    private final Predicate<String> namespaces;
    private final Optional<ChannelHandler> nodes;

    /**
     * @param resources one shareable handler per resource, each taking its own {@code V2Request} type
     * @param meters    where each connection's (or stream's) {@link RequestMetricsHandler} records
     * @param namespaces the {@code ?ns=} values that route to a registry, echoed as {@code OCI-Namespace}
     */
    public RegistryApi(OperationsHandler operations, V2RequestDecoder decoder, List<ChannelHandler> resources,
                       MeterRegistry meters, Predicate<String> namespaces) {
        this(operations, Optional.empty(), decoder, resources, meters, namespaces);
    }

    /** @param nodes the node-to-node endpoint of a cluster, ahead of the registry API's decoder */
    public RegistryApi(OperationsHandler operations, Optional<ChannelHandler> nodes, V2RequestDecoder decoder,
                       List<ChannelHandler> resources, MeterRegistry meters, Predicate<String> namespaces) {
        this.nodes = nodes;
        this.namespaces = namespaces;
        this.timers = new RequestMetricsHandler.Timers(meters);
        this.operations = operations;
        this.decoder = decoder;
        this.resources = List.copyOf(resources);
    }

    @Override
    public void addTo(ChannelPipeline pipeline) {
        pipeline.addLast("metrics", new RequestMetricsHandler(timers));
        pipeline.addLast("operations", operations);
        nodes.ifPresent(handler -> pipeline.addLast("nodes", handler));
        pipeline.addLast("namespace", new NamespaceHeaderHandler(namespaces));
        pipeline.addLast("decoder", decoder);
        for (ChannelHandler resource : resources) {
            pipeline.addLast(resource);
        }
        HttpBasics.addTail(pipeline);
    }
}
