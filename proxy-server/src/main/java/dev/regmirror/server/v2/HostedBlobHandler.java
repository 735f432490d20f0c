package dev.regmirror.server.v2;

import dev.regmirror.core.blob.BlobStore;
import dev.regmirror.core.error.InvalidRequestException;
import dev.regmirror.core.error.RegistryErrorCode;
import dev.regmirror.core.hosted.HostedStore;
import dev.regmirror.core.mirror.BlobSource;
import dev.regmirror.core.mirror.Futures;
import dev.regmirror.server.http.BlobResponder;
import dev.regmirror.server.http.ContentRange;
import dev.regmirror.server.http.ErrorResponder;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import java.util.Optional;
import java.util.concurrent.Executor;

/**
 * {@code GET|HEAD /v2/<name>/blobs/<digest>} of a hosted repository: the blob if it was uploaded or
 * mounted into that repository (else 404 BLOB_UNKNOWN), from the same store and with the same
 * responder (ranges, zero-copy) as cached blobs; no upstream is ever asked. Blob requests of
 * mirrored repositories pass on to the {@link BlobHandler}.
 */
@Sharable
public final class HostedBlobHandler extends SimpleChannelInboundHandler<V2Request.Blob> {

    private final HostedStore hosted;
    private final BlobStore blobs;
    private final BlobResponder responder;
    private final Executor diskExecutor;
    private final ErrorResponder errors;

    public HostedBlobHandler(HostedStore hosted, BlobStore blobs, BlobResponder responder, Executor diskExecutor,
                             ErrorResponder errors) {
        this.hosted = hosted;
        this.blobs = blobs;
        this.responder = responder;
        this.diskExecutor = diskExecutor;
        this.errors = errors;
    }

    @Override
    public boolean acceptInboundMessage(Object msg) {
        return msg instanceof V2Request.Blob blob && blob.route().hosted();
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, V2Request.Blob request) {
        if (request.isHead()) {
            Futures.supplyOn(diskExecutor, () -> {
                requireLinked(request);
                return blobs.find(request.digest()).orElseThrow(() -> unknown(request));
            }).whenComplete((blob, failure) -> ctx.executor().execute(() -> {
                if (failure != null) {
                    errors.send(ctx, request.method(), request.keepAlive(), failure);
                    return;
                }
                BlobHandler.answerHead(ctx, request, blob.size(), errors);
            }));
            return;
        }
        Futures.supplyOn(diskExecutor, () -> {
            requireLinked(request);
            return blobs.open(request.digest()).orElseThrow(() -> unknown(request));
        }).whenComplete((open, failure) -> ctx.executor().execute(() -> {
            if (failure != null) {
                errors.send(ctx, request.method(), request.keepAlive(), failure);
                return;
            }
            BlobSource source = new BlobSource.Cached(open);
            Optional<ContentRange> part;
            try {
                part = BlobHandler.part(request, open.size());
            } catch (InvalidRequestException e) {
                BlobResponder.discard(source);
                errors.send(ctx, request.method(), request.keepAlive(), e);
                return;
            }
            responder.send(ctx, request.route(), request.digest(), source, part, request.keepAlive());
        }));
    }

    /** On the disk executor: 404 BLOB_UNKNOWN unless the repository links the blob. */
    private void requireLinked(V2Request.Blob request) throws java.io.IOException {
        if (!hosted.hasBlob(request.route(), request.digest())) {
            throw unknown(request);
        }
    }

    private static InvalidRequestException unknown(V2Request.Blob request) {
        return new InvalidRequestException(RegistryErrorCode.BLOB_UNKNOWN, "blob " + request.digest().shortForm()
                + " is not in the hosted repository " + request.route());
    }
}
