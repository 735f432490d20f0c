package dev.regmirror.server.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.benmanes.caffeine.cache.Ticker;
import dev.regmirror.core.config.HostedSettings;
import dev.regmirror.core.error.RegistryErrorCode;
import dev.regmirror.core.reference.RepositoryName;
import dev.regmirror.core.upstream.Endpoint;
import dev.regmirror.core.upstream.EndpointSettings;
import dev.regmirror.core.upstream.Route;
import dev.regmirror.core.upstream.UpstreamRouter;
import dev.regmirror.core.upstream.UpstreamSettings;
import dev.regmirror.server.http.ErrorResponder;
import dev.regmirror.server.v2.V2Request;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledDirectByteBuf;
import io.netty.buffer.UnpooledHeapByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;

/**
 * Fuzzes the registry listener's request handling with any bytes a client could send on a
 * connection: the real HTTP front ({@link HttpBasics}: codec, keep-alive, head limits, aggregator),
 * the {@code OCI-Namespace} echo and {@link V2RequestDecoder}, with a hosted registry so pushes
 * decode too. Every request the codec reads is answered exactly once, in order: by a registry error
 * (a 4xx whose body is {@code {"errors":[{"code":...}]}} with that code's status), or by being passed
 * on as a {@link V2Request} whose route is a valid repository that stays inside the cache as a path;
 * only a connection the server closed leaves requests unanswered. No exception reaches the end of
 * the pipeline, and no buffer is left unreleased.
 */
class V2RequestDecoderFuzzTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path CACHE = Path.of("/cache/repositories");
    private static final Set<String> REGISTRIES = Set.of("docker.io", "ghcr.io", "local");
    private static final UpstreamRouter ROUTER = new UpstreamRouter(List.of(
            upstream("docker.io", List.of("registry-1.docker.io"), List.of(), "library"),
            upstream("ghcr.io", List.of(), List.of("ghcr.mirror.lan"), "")),
            "docker.io", Map.of(), new HostedSettings("local", List.of("lan"), List.of("registry.lan"),
                    Duration.ofHours(1), true, true, 4 << 20));
    private static final ErrorResponder ERRORS = new ErrorResponder(JSON);
    private static final HttpBasics FRONT = new HttpBasics(Duration.ofMinutes(1),
            new LimitSettings(1024, 2048, Duration.ofSeconds(30), 0, 0, 1), ERRORS,
            new RefusalLog("registry", Ticker.systemTicker(), new SimpleMeterRegistry()),
            AccessLog.off(new SimpleMeterRegistry()), Ticker.systemTicker(), null,
            request -> false);
    private static final V2RequestDecoder DECODER = new V2RequestDecoder(ROUTER, ERRORS);

    private static UpstreamSettings upstream(String registry, List<String> aliases, List<String> hosts, String prefix) {
        return new UpstreamSettings(registry, aliases, hosts, prefix, List.of(Endpoint.of(EndpointSettings.anonymous(
                registry, URI.create("http://127.0.0.1:1"), Duration.ofSeconds(1), Duration.ofSeconds(1)))),
                Duration.ofSeconds(30));
    }

    @FuzzTest
    void everyRequestIsDecodedOrAnsweredWithARegistryError(byte[] input) throws Exception {
        Exchanges exchanges = new Exchanges();
        Resources resources = new Resources();
        EmbeddedChannel channel = ClientChannel.from("10.0.0.1");
        TrackingAllocator allocator = new TrackingAllocator();
        channel.config().setAllocator(allocator);
        FRONT.addTo(channel.pipeline());
        channel.pipeline().addAfter("codec", "exchanges", exchanges);
        channel.pipeline().addLast(new NamespaceHeaderHandler(ROUTER::serves), DECODER, resources);

        // Sent in two parts, as a socket may deliver it: a head split anywhere must decode alike.
        int half = input.length / 2;
        send(channel, Arrays.copyOfRange(input, 0, half));
        if (channel.isOpen()) {
            send(channel, Arrays.copyOfRange(input, half, input.length));
        }

        assertTrue(resources.failures.isEmpty(), () -> "unhandled: " + resources.failures);
        int unanswered = exchanges.requests.size();
        if (channel.isOpen()) {
            // Only the last request may wait, for the rest of its body.
            assertEquals(exchanges.lastComplete ? 0 : Math.min(1, unanswered), unanswered,
                    "requests left unanswered on an open connection");
        }
        Object written;
        while ((written = channel.readOutbound()) != null) {
            ReferenceCountUtil.release(written);
        }
        channel.finishAndReleaseAll();
        assertTrue(exchanges.problems.isEmpty(), () -> String.join("; ", exchanges.problems));
        assertEquals(List.of(), allocator.unreleased(), "buffers the pipeline allocated and never released");
    }

    /**
     * The channel's allocator, remembering every buffer the pipeline allocates (the codec's, the
     * aggregator's compositions, responses), so a buffer left unreleased once the connection is closed
     * fails the input that left it, rather than a leak report long after, from the garbage collector.
     */
    private static final class TrackingAllocator extends AbstractByteBufAllocator {

        private final List<ByteBuf> allocated = new ArrayList<>();

        TrackingAllocator() {
            super(false);
        }

        @Override
        protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
            return track(new UnpooledHeapByteBuf(this, initialCapacity, maxCapacity));
        }

        @Override
        protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
            return track(new UnpooledDirectByteBuf(this, initialCapacity, maxCapacity));
        }

        @Override
        public CompositeByteBuf compositeHeapBuffer(int maxNumComponents) {
            return track(super.compositeHeapBuffer(maxNumComponents));
        }

        @Override
        public CompositeByteBuf compositeDirectBuffer(int maxNumComponents) {
            return track(super.compositeDirectBuffer(maxNumComponents));
        }

        @Override
        public boolean isDirectBufferPooled() {
            return false;
        }

        private <B extends ByteBuf> B track(B buffer) {
            allocated.add(buffer);
            return buffer;
        }

        List<String> unreleased() {
            return allocated.stream().filter(buffer -> buffer.refCnt() > 0).map(ByteBuf::toString).toList();
        }
    }

    /**
     * Delivers bytes as the socket would. A write the server attempted after it closed the connection
     * (requests the codec still read from the same bytes) fails with an I/O error, which
     * {@code EmbeddedChannel} rethrows here and a real connection drops: no failure once closed.
     */
    private static void send(EmbeddedChannel channel, byte[] bytes) {
        try {
            channel.writeInbound(Unpooled.wrappedBuffer(bytes));
            channel.runPendingTasks();
        } catch (Exception e) {
            if (!(e instanceof java.io.IOException) || channel.isOpen()) {
                throw e;
            }
        }
    }

    /**
     * Next to the codec: the requests it read, in order, and each response written for one, checked:
     * never more responses than requests, and an error's body the registry's error JSON.
     */
    private static final class Exchanges extends ChannelDuplexHandler {

        final Queue<HttpMethod> requests = new ArrayDeque<>();
        final List<String> problems = new ArrayList<>();
        /** Whether the last request read came whole, its body included. */
        boolean lastComplete = true;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof HttpRequest request) {
                requests.add(request.method());
                lastComplete = false;
            }
            if (msg instanceof LastHttpContent) {
                lastComplete = true;
            }
            ctx.fireChannelRead(msg);
        }

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            if (msg instanceof HttpResponse response && response.status().codeClass() != io.netty.handler.codec.http
                    .HttpStatusClass.INFORMATIONAL) {
                HttpMethod method = requests.poll();
                if (method == null) {
                    problems.add("a response with no request: " + response.status());
                } else if (response.status().code() >= 400) {
                    check(response, method);
                }
            }
            ctx.write(msg, promise);
        }

        private void check(HttpResponse response, HttpMethod method) {
            if (!(response instanceof FullHttpResponse full)) {
                problems.add(response.status() + " without a body");
                return;
            }
            if (HttpMethod.HEAD.equals(method)) {
                return;
            }
            try {
                JsonNode error = JSON.readTree(full.content().toString(StandardCharsets.UTF_8)).get("errors").get(0);
                RegistryErrorCode code = RegistryErrorCode.valueOf(error.get("code").asText());
                if (code.status() != response.status().code()) {
                    problems.add(code + " answered with " + response.status());
                }
            } catch (Exception e) {
                problems.add(response.status() + " whose body is no registry error: "
                        + full.content().toString(StandardCharsets.UTF_8) + " (" + e + ")");
            }
        }
    }

    /**
     * Where the resource handlers would be: checks each decoded request and answers it, a push once
     * its body has arrived; records any exception that got this far.
     */
    private static final class Resources extends ChannelInboundHandlerAdapter {

        final List<Throwable> failures = new ArrayList<>();
        private boolean awaitingBody;
        private boolean keepAlive;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (msg instanceof V2Request request) {
                    check(request);
                    keepAlive = request.keepAlive();
                    if (request instanceof V2Request.WithBody) {
                        awaitingBody = true;
                    } else {
                        answer(ctx);
                    }
                } else if (msg instanceof HttpContent && awaitingBody) {
                    if (msg instanceof LastHttpContent) {
                        awaitingBody = false;
                        answer(ctx);
                    }
                } else if (!(msg instanceof HttpContent)) {
                    failures.add(new AssertionError("passed on undecoded: " + msg));
                }
            } catch (Throwable e) {
                failures.add(e);
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        private void answer(ChannelHandlerContext ctx) {
            FullHttpResponse ok = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
            HttpUtil.setContentLength(ok, 0);
            HttpUtil.setKeepAlive(ok, keepAlive);
            ctx.writeAndFlush(ok);
        }

        /**
         * As {@link UnhandledErrorHandler} sees it: once the connection is closed, a write that failed
         * for it (an I/O error) and a body cut short are no failures; anything else is.
         */
        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            boolean closing = cause instanceof java.io.IOException
                    || cause instanceof io.netty.handler.codec.PrematureChannelClosureException;
            if (!(closing && !ctx.channel().isOpen())) {
                failures.add(cause);
            }
            ctx.close();
        }

        private static void check(V2Request request) {
            if (request instanceof V2Request.OfImage image) {
                Route route = image.route();
                assertTrue(REGISTRIES.contains(route.registry()), route.toString());
                String name = route.name().value();
                assertTrue(RepositoryName.isValid(name), name);
                Path path = CACHE.resolve(name).normalize();
                assertTrue(path.startsWith(CACHE) && !path.equals(CACHE) && !name.contains(".."),
                        "repository " + name + " lands at " + path);
                if (!(image instanceof V2Request.Manifest || image instanceof V2Request.Blob
                        || image instanceof V2Request.Tags || image instanceof V2Request.Referrers)) {
                    assertTrue(route.hosted(), "a write on a mirrored repository was passed on: " + request);
                }
            }
            if (request instanceof V2Request.Blob blob) {
                assertFalse(blob.digest().hex().contains("/"));
            }
            if (request instanceof V2Request.Catalog catalog) {
                catalog.n().ifPresent(n -> assertTrue(n >= 0 && n <= 10_000, "n=" + n));
            }
            if (request instanceof V2Request.Tags tags) {
                tags.n().ifPresent(n -> assertTrue(n >= 0 && n <= 10_000, "n=" + n));
            }
        }
    }
}
