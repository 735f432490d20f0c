package dev.regmirror.server.admin;

import dev.regmirror.server.pipeline.HttpBasics;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.SocketChannel;
import java.util.function.Supplier;

/**
 * The admin API pipeline: the common front ({@link HttpBasics}: client limits, HTTP codec,
 * keep-alive, the access log, then the streaming import with its own token check, a small
 * aggregator, an idle timeout), the token check, the request decoder, then one handler per resource.
 */
public final class AdminChannelInitializer extends ChannelInitializer<SocketChannel> {

    private final HttpBasics basics;
    private final AdminAuthHandler auth;
    private final AdminRequestDecoder decoder;
    private final UsageHandler usage;
    private final ImagesHandler images;
    private final PrefetchHandler prefetch;
    private final JobsHandler jobs;
    private final PurgeHandler purge;
    private final PruneHandler prune;
    private final Supplier<ImportHandler> imports;

    /** @param basics the admin listener's own front */
    public AdminChannelInitializer(HttpBasics basics, AdminAuthHandler auth, AdminRequestDecoder decoder,
                                   UsageHandler usage, ImagesHandler images, PrefetchHandler prefetch,
                                   JobsHandler jobs, PurgeHandler purge, PruneHandler prune,
                                   Supplier<ImportHandler> imports) {
        this.basics = basics;
        this.auth = auth;
        this.decoder = decoder;
        this.usage = usage;
        this.images = images;
        this.prefetch = prefetch;
        this.jobs = jobs;
        this.purge = purge;
        this.prune = prune;
        this.imports = imports;
    }

    @Override
    protected void initChannel(SocketChannel channel) {
        ChannelPipeline pipeline = channel.pipeline();
        basics.addTo(pipeline);
        // POST /admin/import streams its body (an image archive): it goes before the aggregator.
        pipeline.addBefore("aggregator", "import", imports.get());
        pipeline.addLast("auth", auth);
        pipeline.addLast("decoder", decoder);
        pipeline.addLast("usage", usage);
        pipeline.addLast("images", images);
        pipeline.addLast("prefetch", prefetch);
        pipeline.addLast("jobs", jobs);
        pipeline.addLast("purge", purge);
        pipeline.addLast("prune", prune);
        basics.addTail(pipeline);
    }
}
