package dev.regmirror.server.pipeline;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.LastHttpContent;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * Times every request on the main listener as {@code regmirror.requests}, by route (the kind of
 * resource: {@code manifest}, {@code blob}, {@code upload} (a blob push), {@code tags}, {@code catalog}, {@code base}, the
 * operator's endpoints, or {@code other}), method and status, from the request until the last byte
 * of the answer was handed to the network; an answer cut short counts with status
 * {@code aborted}. Labels come from a fixed set, so made-up URLs cannot grow the registry. One
 * instance per connection.
 */
public final class RequestMetricsHandler extends ChannelDuplexHandler {

    private static final Pattern UPLOAD = Pattern.compile(".*/blobs/uploads/[^/]+");

    private final Timers timers;
    private final Queue<Exchange> pending = new ArrayDeque<>();

    /**
     * The timers by label, shared by every connection of an API: looked up in a map rather than
     * built and registered again for every request (the labels come from a fixed set).
     */
    static final class Timers {
        private record Labels(String route, String method, String status) {
        }

        private final MeterRegistry meters;
        private final Map<Labels, Timer> byLabels = new ConcurrentHashMap<>();

        Timers(MeterRegistry meters) {
            this.meters = meters;
        }

        Timer of(String route, String method, String status) {
            return byLabels.computeIfAbsent(new Labels(route, method, status), labels -> Timer.builder("regmirror.requests")
                    .description("requests on the main listener, until the answer was sent")
                    .tags("route", labels.route(), "method", labels.method(), "status", labels.status())
                    .register(meters));
        }
    }

    private static final class Exchange {
        final String route;
        final String method;
        final long started = System.nanoTime();
        String status = "aborted";

        Exchange(String route, String method) {
            this.route = route;
            this.method = method;
        }
    }

    public RequestMetricsHandler(MeterRegistry meters) {
        this(new Timers(meters));
    }

    RequestMetricsHandler(Timers timers) {
        this.timers = timers;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpRequest request) {
            pending.add(new Exchange(route(RequestTarget.rawPathOf(request.uri())), method(request.method())));
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        Exchange exchange = pending.peek();
        if (exchange == null) {
            ctx.write(msg, promise);
            return;
        }
        if (msg instanceof HttpResponse response && response.status().codeClass() == HttpStatusClass.INFORMATIONAL) {
            ctx.write(msg, promise); // 100 Continue: the answer is still to come
            return;
        }
        if (msg instanceof HttpResponse response) {
            exchange.status = response.status().codeAsText().toString(); // cached by the status: no new string
        }
        if (!(msg instanceof LastHttpContent)) {
            ctx.write(msg, promise);
            return;
        }
        pending.poll();
        ctx.write(msg, promise.unvoid()).addListener(written -> {
            if (!written.isSuccess()) {
                exchange.status = "aborted";
            }
            record(exchange);
        });
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        Exchange unfinished;
        while ((unfinished = pending.poll()) != null) {
            unfinished.status = "aborted";
            record(unfinished);
        }
        super.channelInactive(ctx);
    }

    private void record(Exchange exchange) {
        timers.of(exchange.route, exchange.method, exchange.status)
                .record(System.nanoTime() - exchange.started, TimeUnit.NANOSECONDS);
    }

    /** The kind of resource a path asks for, from a fixed set. */
    static String route(String path) {
        if (path.equals("/v2") || path.equals("/v2/")) {
            return "base";
        }
        if (path.equals("/metrics") || path.equals("/healthz") || path.equals("/readyz")) {
            return path.substring(1);
        }
        if (!path.startsWith("/v2/") && !path.contains("/v2/")) {
            return "other";
        }
        if (path.endsWith("/_catalog")) {
            return "catalog";
        }
        if (path.endsWith("/tags/list")) {
            return "tags";
        }
        if (path.endsWith("/blobs/uploads") || path.endsWith("/blobs/uploads/")
                || path.contains("/blobs/uploads/") && UPLOAD.matcher(path).matches()) {
            return "upload";
        }
        int last = path.lastIndexOf('/');
        int previous = last > 0 ? path.lastIndexOf('/', last - 1) : -1;
        String kind = previous >= 0 ? path.substring(previous + 1, last) : "";
        return switch (kind) {
            case "manifests" -> "manifest";
            case "blobs" -> "blob";
            case "referrers" -> "referrers";
            default -> "other";
        };
    }

    /** The registry API's methods by name (pushes and deletes too); anything else is {@code other}, so the label set stays fixed. */
    private static final java.util.Set<HttpMethod> NAMED = java.util.Set.of(HttpMethod.GET, HttpMethod.HEAD,
            HttpMethod.POST, HttpMethod.PATCH, HttpMethod.PUT, HttpMethod.DELETE);

    private static String method(HttpMethod method) {
        return NAMED.contains(method) ? method.name() : "other";
    }
}
