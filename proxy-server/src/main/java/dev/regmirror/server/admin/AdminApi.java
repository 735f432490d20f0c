package dev.regmirror.server.admin;

import dev.regmirror.server.pipeline.ApiPipeline;
import dev.regmirror.server.pipeline.HttpBasics;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelHandler;
import java.util.List;
import java.util.function.Supplier;

/**
 * The admin API behind the HTTP front: the streaming import (before the aggregator, with its own
 * token check), the console's pages, the token check, the request decoder, then one handler per resource.
 */
public final class AdminApi implements ApiPipeline {

    private final AdminAuthHandler auth;
    private final AdminRequestDecoder decoder;
    private final UsageHandler usage;
    private final ImagesHandler images;
    private final PrefetchHandler prefetch;
    private final JobsHandler jobs;
    private final PurgeHandler purge;
    private final PruneHandler prune;
    private final VerifyHandler verify;
    private final Supplier<ImportHandler> imports;
    private final List<ChannelHandler> before;
    private final List<ChannelHandler> more;

    /**
     * @param before handlers ahead of the token check that answer what needs none (the console's
     *               sign-in page and its assets) and pass the rest on
     * @param more   further resource handlers after the token check and the decoder
     */
    public AdminApi(List<ChannelHandler> before, AdminAuthHandler auth, AdminRequestDecoder decoder, UsageHandler usage, ImagesHandler images,
                    PrefetchHandler prefetch, JobsHandler jobs, PurgeHandler purge, PruneHandler prune,
                    VerifyHandler verify, Supplier<ImportHandler> imports, List<ChannelHandler> more) {
        this.before = List.copyOf(before);
        this.more = List.copyOf(more);
        this.auth = auth;
        this.decoder = decoder;
        this.usage = usage;
        this.images = images;
        this.prefetch = prefetch;
        this.jobs = jobs;
        this.purge = purge;
        this.prune = prune;
        this.verify = verify;
        this.imports = imports;
    }

    @Override
    public void addTo(ChannelPipeline pipeline) {
        // POST /admin/import streams its body (an image archive): it goes before the aggregator.
        pipeline.addBefore("aggregator", "import", imports.get());
        for (ChannelHandler handler : before) {
            pipeline.addLast(handler.getClass().getSimpleName(), handler);
        }
        pipeline.addLast("auth", auth);
        pipeline.addLast("decoder", decoder);
        pipeline.addLast("usage", usage);
        pipeline.addLast("images", images);
        pipeline.addLast("prefetch", prefetch);
        pipeline.addLast("jobs", jobs);
        pipeline.addLast("purge", purge);
        pipeline.addLast("prune", prune);
        pipeline.addLast("verify", verify);
        for (ChannelHandler handler : more) {
            pipeline.addLast(handler.getClass().getSimpleName(), handler);
        }
        HttpBasics.addTail(pipeline);
    }
}
