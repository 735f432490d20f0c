package dev.regmirror.server.v2;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AttributeKey;

/**
 * Answers {@code Expect: 100-continue} of a push ({@link V2Request.WithBody}: blob uploads and
 * manifests alike) with {@code 100 Continue}, once access was decided: placed after the
 * {@link AccessHandler}, so a client whose push is refused is told so before it sends the body. The
 * decoder marks the channel when a push's head asked for it ({@link #expect}).
 */
@Sharable
public final class ContinueHandler extends ChannelInboundHandlerAdapter {

    private static final AttributeKey<Boolean> EXPECTED = AttributeKey.valueOf(ContinueHandler.class, "expected");

    /** Marks the push just decoded on this channel as waiting for {@code 100 Continue}. */
    public static void expect(Channel channel) {
        channel.attr(EXPECTED).set(Boolean.TRUE);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof V2Request.WithBody && Boolean.TRUE.equals(ctx.channel().attr(EXPECTED).getAndSet(null))) {
            ctx.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE,
                    Unpooled.EMPTY_BUFFER));
        }
        ctx.fireChannelRead(msg);
    }
}
