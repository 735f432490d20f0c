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
import java.util.concurrent.TimeUnit;
import org.slf4j.LoggerFactory;

/** The running HTTP listener: started from components and settings, closed once. */
public final class ProxyServer implements AutoCloseable {

    private final EventLoopGroup boss;
    private final EventLoopGroup workers;
    private final Channel channel;
    private final Channel adminChannel;
    private final ProxyComponents components;

    private ProxyServer(EventLoopGroup boss, EventLoopGroup workers, Channel channel, Channel adminChannel,
                        ProxyComponents components) {
        this.boss = boss;
        this.workers = workers;
        this.channel = channel;
        this.adminChannel = adminChannel;
        this.components = components;
    }

    /**
     * Binds the registry API's listener and the admin API's; fails if either address cannot be
     * bound, with an {@link IOException} naming the listener, its address and the setting.
     */
    public static ProxyServer start(ServerSettings settings, AdminSettings admin, ProxyComponents components)
            throws IOException, InterruptedException {
        boolean epoll = Epoll.isAvailable();
        EventLoopGroup boss = epoll ? new EpollEventLoopGroup(1) : new NioEventLoopGroup(1);
        EventLoopGroup workers = epoll
                ? new EpollEventLoopGroup(settings.eventLoopThreads())
                : new NioEventLoopGroup(settings.eventLoopThreads());
        Class<? extends ServerChannel> channelType = epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
        Channel adminChannel = null;
        try {
            // The admin API first: once the registry port answers, so does the admin API.
            adminChannel = bind(new ServerBootstrap()
                    .group(boss, workers)
                    .channel(channelType)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childHandler(components.adminChannelInitializer()),
                    admin.host(), admin.port(), "admin API (regmirror.admin.host/port)");
            Channel channel = bind(new ServerBootstrap()
                    .group(boss, workers)
                    .channel(channelType)
                    .option(ChannelOption.SO_BACKLOG, 1024)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childHandler(components.channelInitializer()),
                    settings.host(), settings.port(), "registry API (regmirror.server.host/port)");
            return new ProxyServer(boss, workers, channel, adminChannel, components);
        } catch (IOException | InterruptedException | RuntimeException e) {
            if (adminChannel != null) {
                adminChannel.close().awaitUninterruptibly();
            }
            boss.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            workers.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw e;
        }
    }

    private static Channel bind(ServerBootstrap bootstrap, String host, int port, String listener)
            throws IOException, InterruptedException {
        ChannelFuture bound = bootstrap.bind(host, port).await();
        if (!bound.isSuccess()) {
            Throwable cause = bound.cause();
            throw new IOException("cannot listen on " + host + ":" + port + " for the " + listener + ": "
                    + (cause.getMessage() == null ? cause.toString() : cause.getMessage()), cause);
        }
        return bound.channel();
    }

    /** The port actually bound (useful when configured as 0). */
    public int port() {
        return ((InetSocketAddress) channel.localAddress()).getPort();
    }

    /** The admin API's port actually bound. */
    public int adminPort() {
        return ((InetSocketAddress) adminChannel.localAddress()).getPort();
    }

    /** Blocks until the listener is closed. */
    public void awaitClose() throws InterruptedException {
        channel.closeFuture().sync();
    }

    @Override
    public void close() {
        LoggerFactory.getLogger(ProxyServer.class).info("regmirror shutting down");
        channel.close().awaitUninterruptibly();
        adminChannel.close().awaitUninterruptibly();
        boss.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
        workers.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
        components.close();
    }
}
