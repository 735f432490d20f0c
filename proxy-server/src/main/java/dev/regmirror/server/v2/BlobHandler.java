package dev.regmirror.server.v2;

import dev.regmirror.core.mirror.PullThroughBlobs;
import dev.regmirror.server.http.BlobResponder;
import dev.regmirror.server.http.ErrorResponder;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.LastHttpContent;

/**
 * {@code GET|HEAD /v2/<name>/blobs/<digest>}: a cached blob from disk, or the one upstream download
 * of it followed as it fills; HEAD answers the size without downloading.
 */
@Sharable
public final class BlobHandler extends SimpleChannelInboundHandler<V2Request.Blob> {

    private final PullThroughBlobs blobs;
    private final BlobResponder responder;
    private final ErrorResponder errors;

    public BlobHandler(PullThroughBlobs blobs, BlobResponder responder, ErrorResponder errors) {
        this.blobs = blobs;
        this.responder = responder;
        this.errors = errors;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, V2Request.Blob request) {
        if (request.isHead()) {
            blobs.size(request.route(), request.digest()).whenComplete((size, failure) -> ctx.executor().execute(() -> {
                if (failure != null) {
                    errors.send(ctx, request.method(), request.keepAlive(), failure);
                    return;
                }
                ctx.write(BlobResponder.headers(request.digest(), size, request.keepAlive()));
                ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
            }));
            return;
        }
        blobs.open(request.route(), request.digest()).whenComplete((source, failure) -> ctx.executor().execute(() -> {
            if (failure != null) {
                errors.send(ctx, request.method(), request.keepAlive(), failure);
                return;
            }
            responder.send(ctx, request.digest(), source, false, request.keepAlive());
        }));
    }
}
