package dev.regmirror.server.pipeline;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufHolder;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.FileRegion;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpLineException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.ArrayDeque;
import java.util.Queue;

/**
 * Makes one access-log line per response, for the {@link AccessLog} to write: client, method, URI,
 * status, body bytes and duration, once the last byte was handed to the network, so a large blob's
 * time is its real transfer time. A response cut short (the client left, or the upstream broke off
 * and the connection was closed) is logged with {@code aborted} and the bytes that went out, and a
 * request whose client left before any answer with status {@code -}; a request line too long to be
 * read is logged as {@code "- -"}. One instance per connection.
 */
public final class AccessLogHandler extends ChannelDuplexHandler {

    private final AccessLog log;
    private final Queue<Exchange> pending = new ArrayDeque<>();

    /** One request and what has been sent of its response. */
    private static final class Exchange {
        final String client;
        final String method;
        final String uri;
        final long started = System.nanoTime();
        int status;
        long sent;
        FileRegion region;

        Exchange(String client, String method, String uri) {
            this.client = client;
            this.method = method;
            this.uri = uri;
        }
    }

    AccessLogHandler(AccessLog log) {
        this.log = log;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpRequest request && log.enabled()) {
            // A request line over the limit was never read: the codec stands in "GET /bad-request" for it.
            boolean unread = request.decoderResult().cause() instanceof TooLongHttpLineException;
            pending.add(new Exchange(client(ctx.channel().remoteAddress()), unread ? "-" : request.method().name(),
                    unread ? "-" : request.uri()));
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        Exchange exchange = pending.peek();
        if (exchange == null || msg instanceof HttpResponse response
                && response.status().codeClass() == HttpStatusClass.INFORMATIONAL) {
            // 100 Continue answers nothing yet: the line is written for the final response.
            ctx.write(msg, promise);
            return;
        }
        if (msg instanceof HttpResponse response) {
            exchange.status = response.status().code();
        }
        long size = size(msg);
        if (msg instanceof FileRegion fileRegion) {
            exchange.region = fileRegion;
        }
        boolean last = msg instanceof LastHttpContent;
        if (last) {
            pending.poll();
        }
        ctx.write(msg, promise.unvoid()).addListener(written -> {
            if (written.isSuccess()) {
                exchange.sent += size;
                if (msg instanceof FileRegion) {
                    exchange.region = null;
                }
            }
            if (last) {
                log(exchange, !written.isSuccess());
            }
        });
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        Exchange unfinished;
        while ((unfinished = pending.poll()) != null) {
            if (unfinished.region != null) {
                // A zero-copy transfer cut short: count what the kernel sent of it.
                unfinished.sent += unfinished.region.transferred();
            }
            log(unfinished, true);
        }
        super.channelInactive(ctx);
    }

    private static long size(Object msg) {
        if (msg instanceof ByteBufHolder holder) {
            return holder.content().readableBytes();
        }
        if (msg instanceof ByteBuf buf) {
            return buf.readableBytes();
        }
        if (msg instanceof FileRegion region) {
            return region.count();
        }
        return 0;
    }

    private void log(Exchange exchange, boolean aborted) {
        log.add(new AccessLog.Line(System.currentTimeMillis(), exchange.client, exchange.method, exchange.uri,
                exchange.status, exchange.sent, (System.nanoTime() - exchange.started) / 1_000_000, aborted));
    }

    private static String client(SocketAddress address) {
        if (address instanceof InetSocketAddress inet && inet.getAddress() != null) {
            return inet.getAddress().getHostAddress();
        }
        return String.valueOf(address);
    }
}
