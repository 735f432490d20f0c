package dev.regmirror.server.pipeline;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ApplicationProtocolNegotiationHandler;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * After the TLS handshake, sets the connection up for the protocol ALPN chose: HTTP/2 ({@code h2})
 * or HTTP/1.1 (chosen, or no ALPN at all). A failed handshake (plaintext on the TLS port, a
 * garbage ClientHello, a client that does not trust the certificate) closes the connection,
 * logged at debug: such connections come in floods and say nothing about the mirror.
 */
final class Http2OrHttpHandler extends ApplicationProtocolNegotiationHandler {

    private static final Logger LOG = LoggerFactory.getLogger(Http2OrHttpHandler.class);

    private final Consumer<ChannelPipeline> http2;
    private final Consumer<ChannelPipeline> http1;

    Http2OrHttpHandler(Consumer<ChannelPipeline> http2, Consumer<ChannelPipeline> http1) {
        super(ApplicationProtocolNames.HTTP_1_1);
        this.http2 = http2;
        this.http1 = http1;
    }

    @Override
    protected void configurePipeline(ChannelHandlerContext ctx, String protocol) {
        if (ApplicationProtocolNames.HTTP_2.equals(protocol)) {
            http2.accept(ctx.pipeline());
        } else if (ApplicationProtocolNames.HTTP_1_1.equals(protocol)) {
            http1.accept(ctx.pipeline());
        } else {
            throw new IllegalStateException("ALPN chose " + protocol + ", which regmirror did not offer");
        }
    }

    @Override
    protected void handshakeFailure(ChannelHandlerContext ctx, Throwable cause) {
        LOG.debug("TLS handshake with {} failed: {}", ctx.channel().remoteAddress(), cause.toString());
        ctx.close();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.debug("connection from {} before its protocol was chosen: {}", ctx.channel().remoteAddress(),
                cause.toString());
        ctx.close();
    }
}
