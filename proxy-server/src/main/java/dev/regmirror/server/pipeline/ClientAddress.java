package dev.regmirror.server.pipeline;

import io.netty.channel.Channel;
import java.net.InetAddress;
import java.net.InetSocketAddress;

/** The IP address a connection comes from: what the client limits count by. */
final class ClientAddress {

    private ClientAddress() {
    }

    /** The peer's address, or null if the channel has none (not a TCP connection). */
    static InetAddress of(Channel channel) {
        return channel.remoteAddress() instanceof InetSocketAddress inet ? inet.getAddress() : null;
    }

    /** The address as logged: the IP, else whatever the channel says. */
    static String describe(Channel channel) {
        InetAddress address = of(channel);
        return address != null ? address.getHostAddress() : String.valueOf(channel.remoteAddress());
    }
}
