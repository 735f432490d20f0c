package dev.regmirror.server.pipeline;

import io.netty.channel.Channel;
import io.netty.handler.ssl.SslHandler;

/** Whether a request came over TLS: its connection's pipeline (an HTTP/2 stream's parent's) holds the TLS handler. */
public final class TlsChannels {

    private TlsChannels() {
    }

    /** True when {@code channel}, or the connection it is a stream of, speaks TLS. */
    public static boolean overTls(Channel channel) {
        for (Channel c = channel; c != null; c = c.parent()) {
            if (c.pipeline().get(SslHandler.class) != null) {
                return true;
            }
        }
        return false;
    }
}
