package dev.regmirror.server.pipeline;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler;
import io.netty.channel.embedded.EmbeddedChannel;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;

/** EmbeddedChannels that come from a given client IP address, and the raw bytes they send and answer. */
final class ClientChannel {

    private ClientChannel() {
    }

    /** A channel whose peer is {@code ip} (the address the client limits count by). */
    static EmbeddedChannel from(String ip, ChannelHandler... handlers) {
        InetSocketAddress peer = new InetSocketAddress(ip, 40000);
        return new EmbeddedChannel(handlers) {
            @Override
            protected SocketAddress remoteAddress0() {
                return peer;
            }
        };
    }

    /** Writes raw request bytes as the socket would deliver them. */
    static void send(EmbeddedChannel channel, String bytes) {
        channel.writeInbound(Unpooled.copiedBuffer(bytes, StandardCharsets.ISO_8859_1));
        channel.runPendingTasks();
    }

    /** Everything written to the socket so far, as text. */
    static String answer(EmbeddedChannel channel) {
        StringBuilder out = new StringBuilder();
        Object written;
        while ((written = channel.readOutbound()) != null) {
            ByteBuf bytes = (ByteBuf) written;
            out.append(bytes.toString(StandardCharsets.ISO_8859_1));
            bytes.release();
        }
        return out.toString();
    }
}
