package dev.regmirror.server.pipeline;

import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.PrematureChannelClosureException;
import java.io.IOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The last handler of every listener: an exception no handler answered closes the connection at
 * once, so its client sees the failure now rather than waiting for the idle timeout on a response
 * that will never come. Logged once, with the client's address; a connection the client reset or
 * broke off (an I/O error, or a close in the middle of a request body) only at debug.
 */
@Sharable
public final class UnhandledErrorHandler extends ChannelInboundHandlerAdapter {

    private static final Logger LOG = LoggerFactory.getLogger(UnhandledErrorHandler.class);

    /**
     * What no handler took: the rest of a push's body whose request was answered (refused) before it
     * was read, as its connection closes. Released without a word; Netty's own tail would log each.
     */
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        io.netty.util.ReferenceCountUtil.release(msg);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof IOException || cause instanceof PrematureChannelClosureException) {
            // The client reset or broke off the connection, or it closed in the middle of a request's
            // body (the aggregator says so once it is closed): nothing of ours failed.
            LOG.debug("connection from {} ended: {}", ctx.channel().remoteAddress(), cause.toString());
        } else {
            LOG.warn("closing the connection from {}: a request failed unanswered", ctx.channel().remoteAddress(),
                    cause);
        }
        ctx.close();
    }
}
