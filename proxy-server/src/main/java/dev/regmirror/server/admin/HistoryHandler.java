package dev.regmirror.server.admin;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.regmirror.core.mirror.Futures;
import dev.regmirror.server.http.ErrorResponder;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import java.util.concurrent.Executor;

/** {@code GET /admin/history}: the {@link MetricsHistory}, with a sample taken now on the disk executor (free space). */
@Sharable
public final class HistoryHandler extends SimpleChannelInboundHandler<AdminRequest.History> {

    private final MetricsHistory history;
    private final Executor diskExecutor;
    private final ObjectMapper mapper;
    private final ErrorResponder errors;

    public HistoryHandler(MetricsHistory history, Executor diskExecutor, ObjectMapper mapper, ErrorResponder errors) {
        this.history = history;
        this.diskExecutor = diskExecutor;
        this.mapper = mapper;
        this.errors = errors;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, AdminRequest.History request) {
        Futures.supplyOn(diskExecutor, () -> history.toJson(mapper)).whenComplete(
                (body, failure) -> AdminJson.send(ctx, request, mapper, body, null, failure, errors));
    }
}
