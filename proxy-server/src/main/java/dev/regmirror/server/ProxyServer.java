package dev.regmirror.server;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.LoggerFactory;

/** The running listeners (the registry API's and the admin API's): started from components, closed once. */
public final class ProxyServer implements AutoCloseable {

    private final EventLoopGroup boss;
    private final EventLoopGroup workers;
    /** By listener name, the main registry listener first and the admin listener last. */
    private final Map<String, Channel> channels;
    private final ProxyComponents components;

    private ProxyServer(EventLoopGroup boss, EventLoopGroup workers, Map<String, Channel> channels,
                        ProxyComponents components) {
        this.boss = boss;
        this.workers = workers;
        this.channels = channels;
        this.components = components;
    }

    /**
     * Binds every listener, the admin API's first (once the registry port answers, so does the
     * admin API); fails if any address cannot be bound, with an {@link IOException} naming the
     * listener, its address and the setting.
     */
    public static ProxyServer start(ServerSettings settings, ProxyComponents components)
            throws IOException, InterruptedException {
        boolean epoll = Epoll.isAvailable();
        EventLoopGroup boss = epoll ? new EpollEventLoopGroup(1) : new NioEventLoopGroup(1);
        EventLoopGroup workers = epoll
                ? new EpollEventLoopGroup(settings.eventLoopThreads())
                : new NioEventLoopGroup(settings.eventLoopThreads());
        Class<? extends ServerChannel> channelType = epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
        List<ProxyComponents.Listener> listeners = new ArrayList<>(components.listeners());
        listeners.add(0, listeners.remove(listeners.size() - 1)); // the admin API first
        Map<String, Channel> bound = new LinkedHashMap<>();
        try {
            for (ProxyComponents.Listener listener : listeners) {
                ListenerSettings at = listener.settings();
                bound.put(at.name(), bind(new ServerBootstrap()
                        .group(boss, workers)
                        .channel(channelType)
                        .option(ChannelOption.SO_BACKLOG, 1024)
                        .childOption(ChannelOption.TCP_NODELAY, true)
                        .childHandler(listener.initializer()), at));
            }
            Map<String, Channel> ordered = new LinkedHashMap<>();
            components.listeners().forEach(listener -> ordered.put(listener.settings().name(),
                    bound.get(listener.settings().name())));
            return new ProxyServer(boss, workers, ordered, components);
        } catch (IOException | InterruptedException | RuntimeException e) {
            bound.values().forEach(channel -> channel.close().awaitUninterruptibly());
            boss.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            workers.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw e;
        }
    }

    private static Channel bind(ServerBootstrap bootstrap, ListenerSettings listener)
            throws IOException, InterruptedException {
        ChannelFuture bound = bootstrap.bind(listener.host(), listener.port()).await();
        if (!bound.isSuccess()) {
            Throwable cause = bound.cause();
            throw new IOException("cannot listen on " + listener.host() + ":" + listener.port() + " for the "
                    + describe(listener) + ": " + (cause.getMessage() == null ? cause.toString() : cause.getMessage()),
                    cause);
        }
        return bound.channel();
    }

    private static String describe(ListenerSettings listener) {
        return switch (listener.name()) {
            case "registry" -> "registry API (regmirror.server.host/port)";
            case "admin" -> "admin API (regmirror.admin.host/port)";
            default -> "registry API listener " + listener.name() + " (regmirror.server.listeners." + listener.name()
                    + ".host/port)";
        };
    }

    /** The main registry listener's port actually bound (useful when configured as 0). */
    public int port() {
        return port("registry");
    }

    /** The port a listener actually bound, by its name ({@code registry}, {@code admin}, or its key). */
    public int port(String listener) {
        Channel channel = channels.get(listener);
        if (channel == null) {
            throw new IllegalArgumentException("no listener " + listener + "; there are " + channels.keySet());
        }
        return ((InetSocketAddress) channel.localAddress()).getPort();
    }

    /** The admin API's port actually bound. */
    public int adminPort() {
        return port("admin");
    }

    /** The server's meters, as {@code GET /metrics} shows them. */
    public io.micrometer.core.instrument.MeterRegistry metrics() {
        return components.metrics();
    }

    /** Blocks until the main listener is closed. */
    public void awaitClose() throws InterruptedException {
        channels.get("registry").closeFuture().sync();
    }

    @Override
    public void close() {
        LoggerFactory.getLogger(ProxyServer.class).info("regmirror shutting down");
        channels.values().forEach(channel -> channel.close().awaitUninterruptibly());
        boss.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
        workers.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
        components.close();
    }
}
