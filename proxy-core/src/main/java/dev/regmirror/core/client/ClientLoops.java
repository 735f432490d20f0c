package dev.regmirror.core.client;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.util.Objects;

/**
 * The event loops blob bodies are read on and the kind of connection they make (epoll where the
 * server has it, else NIO); owned by whoever made them, which shuts {@code group} down.
 */
public record ClientLoops(EventLoopGroup group, ChannelFactory<? extends Channel> channels) {

    public ClientLoops {
        Objects.requireNonNull(group, "group");
        Objects.requireNonNull(channels, "channels");
    }

    /** {@code threads} NIO event loops whose threads are named after {@code name}. */
    public static ClientLoops nio(int threads, String name) {
        return new ClientLoops(new NioEventLoopGroup(threads, new DefaultThreadFactory(name, true)),
                NioSocketChannel::new);
    }
}
