package dev.regmirror.server;

import dev.regmirror.core.reference.Digest;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Queue;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * Many HTTP/1.1 keep-alive connections to one server from a few Netty event loops: active ones send
 * one request after another until a deadline, each chosen at random and its answer checked (status
 * and the SHA-256 of the body), and idle ones that are only held open. Failures are counted, never
 * thrown, and the first few described.
 */
final class LoadClient implements AutoCloseable {

    /** One request of the mix: its path, the Accept it sends, and the digest its body must have. */
    record Request(String kind, String path, String accept, Digest expected) {
    }

    /** Epoll as the server uses it where it can: BlockHound counts NIO's socket writes as file writes. */
    private final boolean epoll = Epoll.isAvailable();
    private final EventLoopGroup group = epoll ? new EpollEventLoopGroup(2) : new NioEventLoopGroup(2);
    private final String host;
    private final int port;
    private final AtomicLong errors = new AtomicLong();
    private final Queue<String> firstErrors = new ConcurrentLinkedQueue<>();
    private final List<Active> active = new ArrayList<>();
    private final List<Active> idle = new ArrayList<>();
    private final AtomicLong idleClosed = new AtomicLong();

    LoadClient(String host, int port) {
        this.host = host;
        this.port = port;
    }

    /**
     * Opens {@code count} connections that are only held open between the probes: each sends a
     * request when {@link #probeIdle} asks, and nothing else. Returns once all are connected.
     */
    void openIdle(int count) throws InterruptedException {
        List<Active> handlers = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            handlers.add(new Active(null, null));
        }
        int[] next = {0};
        connect(count, () -> handlers.get(next[0]++));
        idle.addAll(handlers);
    }

    /**
     * Opens {@code count} active connections; each starts sending requests chosen by {@code mix}
     * from its own seeded random when {@link #start} is called, until {@code deadlineNanos}.
     */
    void openActive(int count, long seed, Function<Random, Request> mix) throws InterruptedException {
        List<Active> handlers = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            handlers.add(new Active(new Random(seed + i), mix));
        }
        int[] next = {0};
        connect(count, () -> handlers.get(next[0]++));
        active.addAll(handlers);
    }

    /** Starts every active connection; they stop at {@code deadlineNanos} (System.nanoTime()). */
    CountDownLatch start(long deadlineNanos) {
        CountDownLatch finished = new CountDownLatch(active.size());
        for (Active connection : active) {
            connection.start(deadlineNanos, finished);
        }
        return finished;
    }

    /**
     * Sends {@code request} once on every idle connection (a kept-alive connection is one that made
     * a request: a connection that never sends a request head is closed after header-timeout);
     * returns how many answered as expected.
     */
    long probeIdle(Request request, long timeoutSeconds) throws InterruptedException {
        CountDownLatch answered = new CountDownLatch(idle.size());
        long before = idle.stream().mapToLong(a -> a.completed).sum();
        for (Active connection : idle) {
            connection.channel.eventLoop().execute(() -> connection.probe(request, answered));
        }
        answered.await(timeoutSeconds, TimeUnit.SECONDS);
        return idle.stream().mapToLong(a -> a.completed).sum() - before;
    }

    long errors() {
        return errors.get();
    }

    List<String> firstErrors() {
        return List.copyOf(firstErrors);
    }

    long idleClosed() {
        return idleClosed.get();
    }

    /** Active connections that completed at least one request. */
    long activeThatCompleted() {
        return active.stream().filter(a -> a.completed > 0).count();
    }

    long completed(String kind) {
        return active.stream().mapToLong(a -> a.count(kind)).sum();
    }

    /** The latencies (nanoseconds) of the completed requests of this kind, sorted. */
    long[] latencies(String kind) {
        long[] all = active.stream().flatMapToLong(a -> Arrays.stream(a.latencies(kind))).toArray();
        Arrays.sort(all);
        return all;
    }

    private void error(String what) {
        if (errors.incrementAndGet() <= 20) {
            firstErrors.add(what);
        }
    }

    private List<Channel> connect(int count, java.util.function.Supplier<SimpleChannelInboundHandler<HttpObject>> handlers)
            throws InterruptedException {
        Bootstrap bootstrap = new Bootstrap().group(group).channel(epoll ? EpollSocketChannel.class : NioSocketChannel.class)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 30_000).option(ChannelOption.TCP_NODELAY, true);
        List<Channel> channels = new ArrayList<>();
        for (int start = 0; start < count; start += 100) {
            List<ChannelFuture> batch = new ArrayList<>();
            for (int i = start; i < Math.min(count, start + 100); i++) {
                SimpleChannelInboundHandler<HttpObject> handler = handlers.get();
                batch.add(bootstrap.clone().handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel channel) {
                        channel.pipeline().addLast(new HttpClientCodec(), handler);
                    }
                }).connect(host, port));
            }
            for (ChannelFuture future : batch) {
                if (!future.await(60, TimeUnit.SECONDS) || !future.isSuccess()) {
                    throw new IllegalStateException("connection " + channels.size() + " to " + host + ":" + port
                            + " failed", future.cause());
                }
                channels.add(future.channel());
            }
        }
        return channels;
    }

    @Override
    public void close() throws InterruptedException {
        for (Active connection : idle) {
            connection.closing = true;
            connection.channel.close();
        }
        group.shutdownGracefully(0, 5, TimeUnit.SECONDS).await(30, TimeUnit.SECONDS);
    }

    /** One connection's request loop; all its state is touched only on its event loop. */
    private final class Active extends SimpleChannelInboundHandler<HttpObject> {

        private final Random random;
        private final Function<Random, Request> mix;
        /** Held open, sending one request per probe; else a request loop until the deadline. */
        private final boolean once;
        private volatile boolean closing;
        private Request probe;
        private final java.util.Map<String, long[]> latencies = new java.util.HashMap<>();
        private final java.util.Map<String, Integer> counts = new java.util.HashMap<>();
        private volatile long completed;
        private Channel channel;
        private long deadline;
        private CountDownLatch finished;
        private boolean ended;
        private Request current;
        private long sentAt;
        private int status;
        private String digestHeader;
        private MessageDigest sha;

        Active(Random random, Function<Random, Request> mix) {
            this.random = random;
            this.mix = mix;
            this.once = mix == null;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            channel = ctx.channel();
            ctx.fireChannelActive();
        }

        void start(long deadlineNanos, CountDownLatch latch) {
            channel.eventLoop().execute(() -> {
                deadline = deadlineNanos;
                finished = latch;
                sendNext();
            });
        }

        void probe(Request request, CountDownLatch latch) {
            probe = request;
            finished = latch;
            deadline = Long.MAX_VALUE;
            ended = false;
            if (!channel.isActive()) {
                end("an idle connection was closed before the probe");
                return;
            }
            sendNext();
        }

        private void sendNext() {
            if (ended) {
                return;
            }
            if (once ? probe == null : System.nanoTime() - deadline >= 0) {
                end(null);
                return;
            }
            current = once ? probe : mix.apply(random);
            probe = null;
            FullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, current.path(),
                    Unpooled.EMPTY_BUFFER);
            request.headers().set(HttpHeaderNames.HOST, host + ":" + port);
            if (current.accept() != null) {
                request.headers().set(HttpHeaderNames.ACCEPT, current.accept());
            }
            status = 0;
            sha = sha256();
            sentAt = System.nanoTime();
            channel.writeAndFlush(request).addListener(written -> {
                if (!written.isSuccess()) {
                    end("writing " + current.path() + ": " + written.cause());
                }
            });
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, HttpObject msg) {
            if (current == null) {
                end("an answer nobody asked for: " + msg);
                return;
            }
            if (msg instanceof HttpResponse response) {
                status = response.status().code();
                digestHeader = response.headers().get("Docker-Content-Digest");
            }
            if (msg instanceof HttpContent content) {
                ByteBuf body = content.content();
                for (ByteBuffer buffer : body.nioBuffers()) {
                    sha.update(buffer);
                }
            }
            if (msg instanceof LastHttpContent) {
                Request done = current;
                current = null;
                String got = "sha256:" + HexFormat.of().formatHex(sha.digest());
                if (status != 200 || !got.equals(done.expected().toString())
                        || (digestHeader != null && !digestHeader.equals(done.expected().toString()))) {
                    end(done.path() + " answered " + status + " with a body of " + got + " (Docker-Content-Digest "
                            + digestHeader + ")");
                    return;
                }
                record(done.kind(), System.nanoTime() - sentAt);
                sendNext();
            }
        }

        private void record(String kind, long nanos) {
            int n = counts.getOrDefault(kind, 0);
            long[] list = latencies.computeIfAbsent(kind, k -> new long[1024]);
            if (n == list.length) {
                list = Arrays.copyOf(list, n * 2);
                latencies.put(kind, list);
            }
            list[n] = nanos;
            counts.put(kind, n + 1);
            completed++;
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            end("connection failed: " + cause);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (once && !closing) {
                idleClosed.incrementAndGet();
            }
            if (!ended && !closing && (finished != null || once)) {
                end(current == null ? "closed by the server between requests"
                        : "closed by the server during " + current.path());
            }
        }

        private void end(String error) {
            if (ended) {
                return;
            }
            ended = true;
            if (error != null) {
                error(error);
            }
            if (!once) {
                channel.close();
            }
            if (finished != null) {
                finished.countDown();
            }
        }

        long count(String kind) {
            return counts.getOrDefault(kind, 0);
        }

        long[] latencies(String kind) {
            return Arrays.copyOf(latencies.getOrDefault(kind, new long[0]), counts.getOrDefault(kind, 0));
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
