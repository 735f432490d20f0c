package dev.regmirror.server.pipeline;

import io.netty.buffer.ByteBufHolder;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.FileRegion;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.ArrayDeque;
import java.util.Queue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes one access-log line per response (logger {@code regmirror.access}): client, method, URI,
 * status, body bytes and duration. One instance per connection.
 */
public final class AccessLogHandler extends ChannelDuplexHandler {

    private static final Logger ACCESS = LoggerFactory.getLogger("regmirror.access");

    private final Queue<String[]> pending = new ArrayDeque<>();
    private final Queue<Long> started = new ArrayDeque<>();
    private int status;
    private long bytes;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpRequest request) {
            pending.add(new String[] {request.method().name(), request.uri()});
            started.add(System.nanoTime());
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (ACCESS.isInfoEnabled()) {
            if (msg instanceof HttpResponse response) {
                status = response.status().code();
                bytes = 0;
            }
            if (msg instanceof ByteBufHolder holder) {
                bytes += holder.content().readableBytes();
            } else if (msg instanceof ByteBuf buf) {
                bytes += buf.readableBytes();
            } else if (msg instanceof FileRegion region) {
                bytes += region.count();
            }
            if (msg instanceof LastHttpContent) {
                log(ctx);
            }
        }
        ctx.write(msg, promise);
    }

    private void log(ChannelHandlerContext ctx) {
        String[] request = pending.poll();
        Long start = started.poll();
        if (request == null || start == null) {
            return;
        }
        long millis = (System.nanoTime() - start) / 1_000_000;
        ACCESS.info("{} \"{} {}\" {} {} {}ms", client(ctx.channel().remoteAddress()), request[0], request[1],
                status, bytes, millis);
    }

    private static String client(SocketAddress address) {
        if (address instanceof InetSocketAddress inet && inet.getAddress() != null) {
            return inet.getAddress().getHostAddress();
        }
        return String.valueOf(address);
    }
}
