package dev.regmirror.server.admin;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultHttpContent;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.OutputStream;

/**
 * A blocking stream into an HTTP response body, for a writer on the disk executor (never an event
 * loop): each write is one chunk, and while the channel is not writable the writer waits for that
 * chunk to leave, so at most the channel's high-water mark and one chunk are held in memory.
 */
final class ChannelOutputStream extends OutputStream {

    private final ChannelHandlerContext ctx;

    ChannelOutputStream(ChannelHandlerContext ctx) {
        if (ctx.executor().inEventLoop()) {
            throw new IllegalStateException("a ChannelOutputStream blocks; use it off the event loop");
        }
        this.ctx = ctx;
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] bytes, int offset, int length) throws IOException {
        if (length == 0) {
            return;
        }
        if (!ctx.channel().isActive()) {
            throw new IOException("the client closed the connection");
        }
        ByteBuf chunk = ctx.alloc().buffer(length);
        chunk.writeBytes(bytes, offset, length);
        ChannelFuture written = ctx.writeAndFlush(new DefaultHttpContent(chunk));
        if (!ctx.channel().isWritable()) {
            try {
                written.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while the client read");
            }
            if (!written.isSuccess()) {
                throw new IOException("the client stopped reading: " + written.cause(), written.cause());
            }
        }
    }

    /** Does nothing: the handler ends the body (or closes the connection) once the archive is finished. */
    @Override
    public void close() {
    }
}
