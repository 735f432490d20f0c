package dev.regmirror.server.admin;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.regmirror.core.admin.CacheCleaner;
import dev.regmirror.core.mirror.Futures;
import dev.regmirror.server.http.ErrorResponder;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import java.util.concurrent.Executor;

/**
 * {@code POST /admin/prune[?dryRun=true]}: a {@link CacheCleaner} prune on the
 * maintenance executor (one purge, prune or import at a time, never on a shared disk thread).
 */
@Sharable
public final class PruneHandler extends SimpleChannelInboundHandler<AdminRequest.Prune> {

    private final CacheCleaner cleaner;
    private final Executor maintenance;
    private final ObjectMapper mapper;
    private final ErrorResponder errors;

    public PruneHandler(CacheCleaner cleaner, Executor maintenance, ObjectMapper mapper, ErrorResponder errors) {
        this.cleaner = cleaner;
        this.maintenance = maintenance;
        this.mapper = mapper;
        this.errors = errors;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, AdminRequest.Prune request) {
        Futures.supplyOn(maintenance, () -> RemovalJson.of(cleaner.prune(request.dryRun()), mapper, request.dryRun()))
                .whenComplete((body, failure) -> AdminJson.send(ctx, request, mapper, body, null, failure, errors));
    }
}
