package dev.regmirror.server.v2;

import dev.regmirror.core.error.InvalidRequestException;
import dev.regmirror.core.error.RegistryErrorCode;
import dev.regmirror.core.mirror.BlobSource;
import dev.regmirror.core.mirror.PullThroughBlobs;
import dev.regmirror.server.http.BlobResponder;
import dev.regmirror.server.http.ByteRange;
import dev.regmirror.server.http.ContentRange;
import dev.regmirror.server.http.ErrorResponder;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.LastHttpContent;
import java.util.Map;
import java.util.Optional;

/**
 * {@code GET|HEAD /v2/<name>/blobs/<digest>}: a cached blob from disk, or the one upstream download
 * of it followed as it fills; HEAD answers the size without downloading. A {@code Range} is
 * answered 206 with that part, or 416 when it lies outside the blob; HEAD answers a Range as GET
 * would, without the body, as distribution does. A blob of unknown (or zero) size is sent whole; one
 * streamed through (uncached, or from its owner in a cluster) is read from its start and the part
 * sliced out as it passes.
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
                answerHead(ctx, request, size, errors);
            }));
            return;
        }
        blobs.open(request.route(), request.digest()).whenComplete((source, failure) -> ctx.executor().execute(() -> {
            if (failure != null) {
                errors.send(ctx, request.method(), request.keepAlive(), failure);
                return;
            }
            // A body streamed through (from the upstream uncached, or from its owner in a cluster) is
            // read from its start: a part of it is sliced out as it passes, when its size is known.
            boolean seekable = source instanceof BlobSource.Cached || source instanceof BlobSource.Filling
                    || source instanceof BlobSource.Direct && source.size() >= 0;
            Optional<ContentRange> part;
            try {
                part = part(request, seekable ? source.size() : -1);
            } catch (InvalidRequestException e) {
                BlobResponder.discard(source);
                errors.send(ctx, request.method(), request.keepAlive(), e);
                return;
            }
            responder.send(ctx, request.route(), request.digest(), source, part, request.keepAlive());
        }));
    }

    /** A HEAD's answer for a blob of this size: its headers, for the part a Range asks for, or 416. */
    static void answerHead(ChannelHandlerContext ctx, V2Request.Blob request, long size, ErrorResponder errors) {
        Optional<ContentRange> part;
        try {
            part = part(request, size);
        } catch (InvalidRequestException e) {
            errors.send(ctx, request.method(), request.keepAlive(), e);
            return;
        }
        ctx.write(BlobResponder.headers(request.digest(), size, part, request.keepAlive()));
        ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
    }

    /**
     * The part of a blob of this size the request asks for, empty for all of it.
     *
     * @throws InvalidRequestException RANGE_INVALID (416) when the range selects no byte of the blob
     */
    static Optional<ContentRange> part(V2Request.Blob request, long size) {
        if (request.range().isEmpty() || size <= 0) {
            return Optional.empty();
        }
        ByteRange range = request.range().get();
        Optional<ContentRange> part = range.within(size);
        if (part.isEmpty()) {
            throw new InvalidRequestException(RegistryErrorCode.RANGE_INVALID,
                    range + " of blob " + request.digest().shortForm() + " is outside its " + size + " bytes",
                    null, Map.of(HttpHeaderNames.CONTENT_RANGE.toString(), ContentRange.unsatisfied(size)));
        }
        return part;
    }
}
