package dev.regmirror.server.pipeline;

import dev.regmirror.core.mirror.Futures;
import dev.regmirror.server.http.Responses;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executor;

/**
 * Answers the operator's endpoints on the main listener, ahead of the registry API: {@code /metrics}
 * in Prometheus text format (written by Micrometer), scraped on the disk executor because some
 * gauges read files. Anything else passes on.
 */
@Sharable
public final class OperationsHandler extends ChannelInboundHandlerAdapter {

    private final PrometheusMeterRegistry metrics;
    private final Executor diskExecutor;

    /** @param diskExecutor where scrapes run: some gauges read files under /proc */
    public OperationsHandler(PrometheusMeterRegistry metrics, Executor diskExecutor) {
        this.metrics = metrics;
        this.diskExecutor = diskExecutor;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof FullHttpRequest request && HttpMethod.GET.equals(request.method())
                && pathOf(request.uri()).equals("/metrics")) {
            boolean keepAlive = HttpUtil.isKeepAlive(request);
            request.release();
            Futures.supplyOn(diskExecutor, metrics::scrape).whenComplete((text, failure) -> ctx.executor().execute(() ->
                    Responses.sendFull(ctx, failure == null ? HttpResponseStatus.OK : HttpResponseStatus.INTERNAL_SERVER_ERROR,
                            "text/plain; version=0.0.4; charset=utf-8",
                            Unpooled.copiedBuffer(failure == null ? text : "scrape failed: " + failure, StandardCharsets.UTF_8),
                            false, keepAlive, null)));
            return;
        }
        ctx.fireChannelRead(msg);
    }

    private static String pathOf(String uri) {
        int query = uri.indexOf('?');
        return query < 0 ? uri : uri.substring(0, query);
    }
}
