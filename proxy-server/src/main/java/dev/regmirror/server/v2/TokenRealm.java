package dev.regmirror.server.v2;

import dev.regmirror.server.pipeline.V2RequestDecoder;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.ssl.SslHandler;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.regex.Pattern;

/**
 * The token endpoint's URL as a client reaches it, for the realm of a challenge: the scheme of the
 * connection (https on a TLS listener) and the host and port the client named in its
 * {@code Host} header, else the address it connected to.
 */
final class TokenRealm {

    /** A host name, an IPv4 address or a bracketed IPv6 one, and an optional port: nothing to quote. */
    private static final Pattern HOST = Pattern.compile("(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?");

    private TokenRealm() {
    }

    static URI of(ChannelHandlerContext ctx, V2Request request) {
        // An HTTP/2 stream's connection is its parent; an HTTP/1.1 connection's parent is the listener.
        Channel connection = ctx.channel() instanceof Http2StreamChannel ? ctx.channel().parent() : ctx.channel();
        String scheme = connection.pipeline().get(SslHandler.class) != null ? "https" : "http";
        String host = request.origin().host().filter(value -> HOST.matcher(value).matches())
                .orElseGet(() -> local(connection));
        return URI.create(scheme + "://" + host + V2RequestDecoder.TOKEN_PATH);
    }

    private static String local(Channel connection) {
        InetSocketAddress local = (InetSocketAddress) connection.localAddress();
        String address = local.getAddress().getHostAddress();
        return (address.contains(":") ? "[" + address + "]" : address) + ":" + local.getPort();
    }
}
