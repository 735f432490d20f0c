package dev.regmirror.server.admin;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.regmirror.server.http.ErrorResponder;
import dev.regmirror.server.http.Responses;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;

/** Sends an admin answer built on the disk executor: the JSON body, or the error it failed with. */
final class AdminJson {

    private AdminJson() {
    }

    /** Back on the channel's event loop: 200 with the body, or the failure through the error responder. */
    static void send(ChannelHandlerContext ctx, AdminRequest request, ObjectMapper mapper, ObjectNode body,
                     HttpResponse headers, Throwable failure, ErrorResponder errors) {
        ctx.executor().execute(() -> {
            if (failure != null) {
                errors.send(ctx, request.method(), request.keepAlive(), failure);
                return;
            }
            Responses.sendFull(ctx, HttpResponseStatus.OK, "application/json; charset=utf-8",
                    Unpooled.wrappedBuffer(Responses.json(mapper, body)), request.isHead(), request.keepAlive(), headers);
        });
    }
}
