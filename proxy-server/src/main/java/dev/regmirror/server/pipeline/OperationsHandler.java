package dev.regmirror.server.pipeline;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import dev.regmirror.core.mirror.Futures;
import dev.regmirror.core.storage.CacheLayout;
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
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Executor;

/**
 * Answers the operator's endpoints on the main listener, ahead of the registry API: {@code /metrics}
 * in Prometheus text format (written by Micrometer), scraped on the disk executor because some
 * gauges read files; {@code /healthz} (the process answers); {@code /readyz} (a probe file can be
 * created and deleted under the cache's {@code ingest/}, and the object store answers when the
 * cache is in one, on the disk executor; 503 with the reason if not). Anything else passes on.
 */
@Sharable
public final class OperationsHandler extends ChannelInboundHandlerAdapter {

    private static final String JSON = "application/json; charset=utf-8";

    private final PrometheusMeterRegistry metrics;
    private final Executor diskExecutor;
    private final CacheLayout layout;
    private final Runnable storeCheck;

    /** The store check of a cache on the local disk: nothing more to ask. */
    public static final Runnable NO_STORE = () -> { };

    /**
     * @param diskExecutor where scrapes and readiness probes run: some gauges read files under /proc
     * @param layout the cache's, in whose {@code ingest/} the readiness probe writes its file
     * @param storeCheck asks the object store holding the cache whether it answers ({@link #NO_STORE}
     *                   for a cache on the local disk); throws with the reason when it does not
     */
    public OperationsHandler(PrometheusMeterRegistry metrics, Executor diskExecutor, CacheLayout layout,
                             Runnable storeCheck) {
        this.metrics = metrics;
        this.diskExecutor = diskExecutor;
        this.layout = layout;
        this.storeCheck = storeCheck;
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
        if (msg instanceof FullHttpRequest request && HttpMethod.GET.equals(request.method())
                && pathOf(request.uri()).equals("/healthz")) {
            boolean keepAlive = HttpUtil.isKeepAlive(request);
            request.release();
            Responses.sendFull(ctx, HttpResponseStatus.OK, JSON,
                    Unpooled.copiedBuffer("{\"status\":\"ok\"}", StandardCharsets.UTF_8), false, keepAlive, null);
            return;
        }
        if (msg instanceof FullHttpRequest request && HttpMethod.GET.equals(request.method())
                && pathOf(request.uri()).equals("/readyz")) {
            boolean keepAlive = HttpUtil.isKeepAlive(request);
            request.release();
            Futures.supplyOn(diskExecutor, this::probe).whenComplete((ok, failure) -> ctx.executor().execute(() ->
                    Responses.sendFull(ctx, failure == null ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE,
                            JSON, Unpooled.copiedBuffer(failure == null ? "{\"status\":\"ready\"}" : notReady(failure),
                                    StandardCharsets.UTF_8), false, keepAlive, null)));
            return;
        }
        ctx.fireChannelRead(msg);
    }

    /** Creates and deletes a file where downloads are written: the cache directory is writable. */
    private Boolean probe() throws IOException {
        Path file = layout.scratchFile("readyz");
        try {
            Files.createFile(file);
        } catch (IOException e) {
            throw new IOException("the cache directory is not writable: cannot create " + file + ": " + e, e);
        }
        Files.delete(file);
        storeCheck.run();
        return true;
    }

    private static String notReady(Throwable failure) {
        String reason = Futures.unwrap(failure).getMessage();
        return "{\"status\":\"not ready\",\"reason\":\"" + new String(JsonStringEncoder.getInstance().quoteAsString(String.valueOf(reason))) + "\"}";
    }

    private static String pathOf(String uri) {
        int query = uri.indexOf('?');
        return query < 0 ? uri : uri.substring(0, query);
    }
}
