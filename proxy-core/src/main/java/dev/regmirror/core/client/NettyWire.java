package dev.regmirror.core.client;

import dev.regmirror.core.client.auth.Origin;
import dev.regmirror.core.upstream.EndpointSettings;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.proxy.HttpProxyHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.netty.resolver.NoopAddressResolverGroup;
import io.netty.util.ReferenceCountUtil;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpConnectTimeoutException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.Flow;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Consumer;
import java.util.function.Supplier;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;

/**
 * The wire of every request to an endpoint and its token realms: Netty's HTTP/1.1 client, connections
 * kept alive per origin ({@link ConnectionPool}), reading into pooled direct buffers that a blob's
 * subscriber writes straight to the ingest file and then releases (small bodies are copied whole,
 * {@link #collect}).
 * Speaks TLS with the endpoint's extra trust and host name verification (against the endpoint's
 * {@link EndpointSettings#tlsName()} on its own origin, when it has one), reaches the endpoint
 * through its HTTP proxy (CONNECT for {@code https}, absolute URLs for {@code http}), and looks host
 * names up on {@code lookups}, never on an event loop.
 */
final class NettyWire {

    /** The longest response head accepted; an S3 redirect's is a few KiB. */
    private static final int MAX_HEAD = 64 * 1024;
    /** Bytes a decoded chunk may hold, so that one socket read is one buffer, never cut into 8 KiB pieces. */
    private static final int MAX_CHUNK = 1024 * 1024;
    /** The most one socket read takes; reads grow towards it while they come back full. */
    private static final int MAX_READ = 256 * 1024;
    /** Idle connections kept per origin: as many as a client pulls layers at once, about. */
    private static final int MAX_IDLE_PER_ORIGIN = 4;
    /** How long an idle connection is kept: below the usual servers' keep-alive timeouts (nginx 75 s). */
    private static final Duration IDLE_TIMEOUT = Duration.ofSeconds(30);

    private final EndpointSettings settings;
    private final ClientLoops loops;
    private final Executor lookups;
    private final ScheduledExecutorService scheduler;
    private final Failures failures;
    private final SslContext tls;
    private final ConnectionPool pool = new ConnectionPool(MAX_IDLE_PER_ORIGIN, IDLE_TIMEOUT);

    /**
     * @param loops   the event loops and connections to read on, owned by the caller
     * @param lookups where host names are looked up (blocking)
     * @throws IllegalArgumentException if the endpoint's CA file cannot be read or holds no certificate, or
     *                                  its proxy is not an {@code http://} URL
     */
    NettyWire(EndpointSettings settings, ClientLoops loops, Executor lookups, ScheduledExecutorService scheduler,
              Failures failures) {
        this.settings = settings;
        this.loops = loops;
        this.lookups = lookups;
        this.scheduler = scheduler;
        this.failures = failures;
        this.tls = tlsContext(settings);
        settings.proxy().ifPresent(NettyWire::checkProxy);
    }

    /** Only {@code http://} proxies: the connection to the proxy itself is plain. */
    private static void checkProxy(URI proxy) {
        if (!"http".equalsIgnoreCase(proxy.getScheme()) || proxy.getHost() == null) {
            throw new IllegalArgumentException("proxy " + proxy + ": only http://host:port proxies are supported"
                    + " (https endpoints are still reached end to end through CONNECT)");
        }
    }

    private static SslContext tlsContext(EndpointSettings settings) {
        try {
            SslContextBuilder builder = SslContextBuilder.forClient().sslProvider(SslProvider.JDK);
            settings.caFile().ifPresent(caFile -> builder.trustManager(ExtraTrust.of(caFile)));
            return builder.build();
        } catch (SSLException e) {
            throw new IllegalArgumentException("TLS for " + settings.describe() + ": " + e.getMessage(), e);
        }
    }

    /**
     * Sends {@code fetch} to {@code uri} with {@code authorization} (already withheld from other
     * origins); fails with a ProxyException or a raw I/O failure for the caller to map.
     */
    CompletableFuture<UpstreamResponse<Flow.Publisher<ByteBuf>>> send(Fetch fetch, URI uri,
                                                                  Optional<String> authorization) {
        return send(fetch.method(), fetch.accept(), fetch.what(), uri, authorization);
    }

    /**
     * Sends a request with no body to {@code uri} (of any origin, a token realm's too); its answer
     * handed on with the body still to be read, failures as raw I/O failures for the caller to map.
     */
    CompletableFuture<UpstreamResponse<Flow.Publisher<ByteBuf>>> send(String method, Optional<String> accept,
                                                                  String what, URI uri,
                                                                  Optional<String> authorization) {
        boolean viaProxy = settings.proxy().isPresent() && !"https".equalsIgnoreCase(uri.getScheme());
        Supplier<FullHttpRequest> request = () -> request(method, accept, uri, authorization, viaProxy);
        CompletableFuture<UpstreamResponse<Flow.Publisher<ByteBuf>>> answer = new CompletableFuture<>();
        exchange(request, uri, answer, true);
        // Off the event loop, failures too: whoever receives the answer (a fill opening its ingest
        // file, the next endpoint's request) may block.
        CompletableFuture<UpstreamResponse<Flow.Publisher<ByteBuf>>> handedOn = new CompletableFuture<>();
        answer.whenCompleteAsync((response, failure) -> {
            if (failure != null) {
                handedOn.completeExceptionally(Failures.unwrap(failure));
                return;
            }
            handedOn.complete(new UpstreamResponse<>(response.status(), response.headers(), response.uri(),
                    GuardedPublisher.watching(response.body(), what, settings, scheduler, failures,
                            ReferenceCountUtil::release)));
        }, lookups);
        return handedOn;
    }

    /**
     * Sends the request on an idle connection to the origin when {@code mayReuse} and one is left,
     * sending it again on a new one if that connection turns out to be closed before any answer;
     * else on a new connection.
     */
    private void exchange(Supplier<FullHttpRequest> request, URI uri,
                          CompletableFuture<UpstreamResponse<Flow.Publisher<ByteBuf>>> answer, boolean mayReuse) {
        boolean https = "https".equalsIgnoreCase(uri.getScheme());
        String host = bare(uri.getHost());
        int port = uri.getPort() >= 0 ? uri.getPort() : https ? 443 : 80;
        ConnectionPool.Origin origin = new ConnectionPool.Origin(https, host, port);
        Optional<URI> proxy = settings.proxy();
        Consumer<Channel> reuse = channel -> pool.give(origin, channel);
        Optional<Channel> idle = mayReuse ? pool.take(origin) : Optional.empty();
        if (idle.isPresent()) {
            Channel channel = idle.get();
            BodyStream stream = new BodyStream(request.get(), uri, settings.readTimeout(), answer, reuse,
                    Optional.of(() -> exchange(request, uri, answer, false)));
            channel.eventLoop().execute(() -> {
                if (!channel.isActive()) {
                    stream.release();
                    exchange(request, uri, answer, false);
                    return;
                }
                channel.pipeline().addLast(stream);
                stream.start();
            });
            return;
        }
        String lookedUp = proxy.map(p -> bare(p.getHost())).orElse(host);
        int connectPort = proxy.map(p -> p.getPort() < 0 ? 80 : p.getPort()).orElse(port);
        CompletableFuture.supplyAsync(() -> lookUp(lookedUp), lookups).whenComplete((address, notFound) -> {
            if (notFound != null) {
                answer.completeExceptionally(Failures.unwrap(notFound));
                return;
            }
            InetSocketAddress resolved = new InetSocketAddress(address, connectPort);
            boolean tunnel = proxy.isPresent() && https;
            BodyStream stream = new BodyStream(request.get(), uri, settings.readTimeout(), answer, reuse, Optional.empty());
            Bootstrap bootstrap = new Bootstrap().group(loops.group()).channelFactory(loops.channels())
                    .resolver(NoopAddressResolverGroup.INSTANCE)
                    .option(ChannelOption.AUTO_READ, false)
                    .option(ChannelOption.RCVBUF_ALLOCATOR, new AdaptiveRecvByteBufAllocator(2048, 64 * 1024, MAX_READ))
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) settings.connectTimeout().toMillis())
                    .handler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel channel) {
                            ChannelPipeline pipeline = channel.pipeline();
                            if (tunnel) {
                                HttpProxyHandler connect = new HttpProxyHandler(resolved);
                                connect.setConnectTimeoutMillis(settings.connectTimeout().toMillis());
                                pipeline.addLast(connect);
                            }
                            if (https) {
                                pipeline.addLast(tlsHandler(channel, verifiedName(uri, host), port));
                            }
                            pipeline.addLast(new HttpClientCodec(4096, MAX_HEAD, MAX_CHUNK));
                            pipeline.addLast(stream);
                        }
                    });
            InetSocketAddress target = tunnel ? InetSocketAddress.createUnresolved(host, port) : resolved;
            bootstrap.connect(target).addListener(connected -> {
                if (connected.isSuccess()) {
                    stream.start();
                } else {
                    stream.release();
                    answer.completeExceptionally(connectFailure(connected.cause()));
                }
            });
        });
    }

    /**
     * Reads a body nobody needs (a 401's, a redirect's, a 404's) to its end and drops it, so that its
     * connection is kept; one past {@link UpstreamErrors#MAX_BODY} or the read timeout is cancelled,
     * and its connection closed. Done on {@code lookups}, where the next request may start.
     */
    CompletableFuture<Void> discard(Flow.Publisher<ByteBuf> body) {
        return collect(body, UpstreamErrors.MAX_BODY).handleAsync((bytes, failure) -> null, lookups);
    }

    /**
     * A small body (a manifest, a tag list, a token, an error) whole, as {@link BodyCollector} reads
     * it within the read timeout: read to its end, it leaves its connection kept alive; past {@code
     * limit} or the deadline, the read is cancelled and the connection closed.
     */
    CompletableFuture<byte[]> collect(Flow.Publisher<ByteBuf> body, int limit) {
        return BodyCollector.collect(onHeap(body), limit, settings.readTimeout());
    }

    /** A body copied onto the heap, buffer by buffer, for {@link BodyCollector}. */
    private static Flow.Publisher<List<ByteBuffer>> onHeap(Flow.Publisher<ByteBuf> body) {
        return subscriber -> body.subscribe(new Flow.Subscriber<>() {
            @Override
            public void onSubscribe(Flow.Subscription subscription) {
                subscriber.onSubscribe(subscription);
            }

            @Override
            public void onNext(ByteBuf item) {
                byte[] copy;
                try {
                    copy = new byte[item.readableBytes()];
                    item.readBytes(copy);
                } finally {
                    item.release();
                }
                subscriber.onNext(List.of(ByteBuffer.wrap(copy)));
            }

            @Override
            public void onError(Throwable failure) {
                subscriber.onError(failure);
            }

            @Override
            public void onComplete() {
                subscriber.onComplete();
            }
        });
    }

    /**
     * The name a server's certificate must be valid for (and the SNI sent): the endpoint's {@code
     * tlsName} on the endpoint's own origin, else the host connected to (a token realm's, a redirect's).
     */
    private String verifiedName(URI uri, String host) {
        return Origin.same(uri, settings.url()) ? settings.tlsName().orElse(host) : host;
    }

    /** A client engine that checks the certificate against {@code name} ("HTTPS" identification) and sends it as SNI. */
    private SslHandler tlsHandler(Channel channel, String name, int port) {
        SSLEngine engine = tls.newEngine(channel.alloc(), name, port);
        SSLParameters parameters = engine.getSSLParameters();
        parameters.setEndpointIdentificationAlgorithm("HTTPS");
        engine.setSSLParameters(parameters);
        SslHandler handler = new SslHandler(engine);
        handler.setHandshakeTimeoutMillis(Math.max(settings.connectTimeout().toMillis(),
                settings.readTimeout().toMillis()));
        return handler;
    }

    /**
     * The request: the path alone to the endpoint (or through a CONNECT tunnel), the absolute URL
     * to a proxy of plain HTTP; the {@code User-Agent}, and the Accept and Authorization given.
     */
    private static FullHttpRequest request(String method, Optional<String> accept, URI uri,
                                           Optional<String> authorization, boolean viaProxy) {
        String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
        String target = (viaProxy ? uri.getScheme() + "://" + uri.getRawAuthority() : "") + path
                + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery());
        FullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.valueOf(method),
                target, Unpooled.EMPTY_BUFFER);
        request.headers().set(HttpHeaderNames.HOST, uri.getPort() >= 0 ? uri.getHost() + ":" + uri.getPort()
                : uri.getHost());
        request.headers().set(HttpHeaderNames.USER_AGENT, HttpRegistryClient.USER_AGENT);
        accept.ifPresent(value -> request.headers().set(HttpHeaderNames.ACCEPT, value));
        authorization.ifPresent(value -> request.headers().set(HttpHeaderNames.AUTHORIZATION, value));
        return request;
    }

    /** Looks a host up; blocking, so never on an event loop. */
    private static InetAddress lookUp(String host) {
        try {
            return InetAddress.getByName(host);
        } catch (UnknownHostException e) {
            throw new CompletionException(e);
        }
    }

    /** {@code ::1} for {@code [::1]}: URIs bracket IPv6 literals, look-ups and TLS take them bare. */
    private static String bare(String host) {
        return host != null && host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1)
                : host;
    }

    /** A connect timeout as the JDK's type, which {@link Failures} names as such. */
    private static Throwable connectFailure(Throwable cause) {
        if (cause instanceof io.netty.channel.ConnectTimeoutException) {
            HttpConnectTimeoutException timeout = new HttpConnectTimeoutException(cause.getMessage());
            timeout.initCause(cause);
            return timeout;
        }
        return cause;
    }
}
