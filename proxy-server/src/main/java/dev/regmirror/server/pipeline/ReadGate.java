package dev.regmirror.server.pipeline;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;

/**
 * Holds back a connection's reads while the {@link AccessLog} is congested and passes the held
 * read on once it caught up: the connection then waits in the kernel's socket buffers instead of
 * adding lines, and no event loop waits. It sits next to the socket, so every read of the
 * connection (autoRead's, TLS's, HTTP/2's, a handler's own) passes through it, and a handler that
 * turns autoRead off and on meanwhile (a push's body, an access check) is not disturbed. One per
 * connection.
 */
final class ReadGate extends ChannelOutboundHandlerAdapter {

    private final AccessLog log;
    private ChannelHandlerContext ctx;
    /** A read was asked for and held back; touched on the channel's event loop only. */
    private boolean heldRead;

    ReadGate(AccessLog log) {
        this.log = log;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void read(ChannelHandlerContext ctx) {
        if (!log.congested()) {
            ctx.read();
            return;
        }
        if (!heldRead) {
            heldRead = true;
            log.hold(this);
        }
    }

    /** Passes the held read on, on the channel's event loop; any thread. */
    void release() {
        ctx.executor().execute(() -> {
            if (heldRead) {
                heldRead = false;
                ctx.read();
            }
        });
    }
}
