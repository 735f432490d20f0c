package dev.regmirror.server;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.nio.NioServerSocketChannel;
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

    /** Binds the registry API's listener and the admin API's; fails if either address cannot be bound. */
    public static ProxyServer start(ServerSettings settings, AdminSettings admin, ProxyComponents components)
            throws InterruptedException {
        boolean epoll = Epoll.isAvailable();
        EventLoopGroup boss = epoll ? new EpollEventLoopGroup(1) : new NioEventLoopGroup(1);
        EventLoopGroup workers = epoll
                ? new EpollEventLoopGroup(settings.eventLoopThreads())
                : new NioEventLoopGroup(settings.eventLoopThreads());
        Class<? extends ServerChannel> channelType = epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
        Channel channel = null;
        try {
            channel = new ServerBootstrap()
                    .group(boss, workers)
                    .channel(channelType)
                    .option(ChannelOption.SO_BACKLOG, 1024)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childHandler(components.channelInitializer())
                    .bind(settings.host(), settings.port())
                    .sync()
                    .channel();
            Channel adminChannel = new ServerBootstrap()
                    .group(boss, workers)
                    .channel(channelType)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childHandler(components.adminChannelInitializer())
                    .bind(admin.host(), admin.port())
                    .sync()
                    .channel();
            return new ProxyServer(boss, workers, channel, adminChannel, components);
        } catch (Throwable e) { // a failed bind is a checked BindException Netty throws unchecked
            if (channel != null) {
                channel.close().awaitUninterruptibly();
            }
            boss.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            workers.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw e;
        }
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
