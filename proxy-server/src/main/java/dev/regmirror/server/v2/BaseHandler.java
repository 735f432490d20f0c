package dev.regmirror.server.v2;

import dev.regmirror.server.http.Responses;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.nio.charset.StandardCharsets;

/**
 * {@code GET /v2/}: tells clients this is a registry speaking API version 2; no authentication is
 * asked of them.
 */
@Sharable
public final class BaseHandler extends SimpleChannelInboundHandler<V2Request.Base> {

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, V2Request.Base request) {
        Responses.sendFull(ctx, HttpResponseStatus.OK, "application/json; charset=utf-8",
                Unpooled.copiedBuffer("{}", StandardCharsets.UTF_8), request.isHead(), request.keepAlive(), null);
    }
}
