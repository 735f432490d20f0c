package dev.regmirror.server.v2;

import dev.regmirror.core.config.HostedSettings;
import dev.regmirror.core.error.InvalidRequestException;
import dev.regmirror.core.error.RegistryErrorCode;
import dev.regmirror.core.hosted.HostedManifests;
import dev.regmirror.core.mirror.Futures;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.reference.Reference;
import dev.regmirror.core.reference.Tag;
import dev.regmirror.server.http.ErrorResponder;
import dev.regmirror.server.http.Responses;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.Map;
import java.util.concurrent.Executor;

/**
 * {@code DELETE} of a hosted repository's manifest (by digest: it and every tag pointing at it), tag
 * (by tag: the manifest stays) or blob (only with {@code regmirror.hosted.delete.blobs}): 202 Accepted,
 * 404 MANIFEST_UNKNOWN or BLOB_UNKNOWN when the repository does not hold it, and 405 UNSUPPORTED while
 * {@code regmirror.hosted.delete.enabled} is off. The bytes stay until garbage collection.
 */
@Sharable
public final class DeleteHandler extends SimpleChannelInboundHandler<V2Request.Delete> {

    private final HostedManifests manifests;
    private final HostedSettings settings;
    private final Executor diskExecutor;
    private final ErrorResponder errors;

    public DeleteHandler(HostedManifests manifests, HostedSettings settings, Executor diskExecutor,
                         ErrorResponder errors) {
        this.manifests = manifests;
        this.settings = settings;
        this.diskExecutor = diskExecutor;
        this.errors = errors;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, V2Request.Delete request) {
        if (!settings.deleteEnabled() || request.blob().isPresent() && !settings.deleteBlobs()) {
            String what = request.blob().isPresent() ? "blobs (regmirror.hosted.delete.blobs)"
                    : "manifests and tags (regmirror.hosted.delete.enabled)";
            errors.send(ctx, request.method(), request.keepAlive(), new InvalidRequestException(
                    RegistryErrorCode.UNSUPPORTED, "deleting " + what + " is disabled on this registry", null,
                    Map.of("Allow", request.blob().isPresent() ? "GET, HEAD" : "GET, HEAD, PUT")));
            return;
        }
        Futures.supplyOn(diskExecutor, () -> delete(request)).whenComplete((deleted, failure) ->
                ctx.executor().execute(() -> {
                    if (failure != null) {
                        errors.send(ctx, request.method(), request.keepAlive(), failure);
                    } else if (!deleted) {
                        errors.send(ctx, request.method(), request.keepAlive(), new InvalidRequestException(
                                request.blob().isPresent() ? RegistryErrorCode.BLOB_UNKNOWN
                                        : RegistryErrorCode.MANIFEST_UNKNOWN,
                                (request.blob().isPresent() ? request.blob().get() : request.manifest().get()) + " is not in " + request.route()));
                    } else {
                        Responses.sendFull(ctx, HttpResponseStatus.ACCEPTED, null, Unpooled.EMPTY_BUFFER, false,
                                request.keepAlive(), null);
                    }
                }));
    }

    private boolean delete(V2Request.Delete request) throws java.io.IOException {
        if (request.blob().isPresent()) {
            return manifests.deleteBlob(request.route(), request.blob().get());
        }
        Reference reference = request.manifest().orElseThrow();
        if (reference instanceof Digest digest) {
            return manifests.deleteManifest(request.route(), digest);
        }
        return manifests.deleteTag(request.route(), (Tag) reference);
    }
}
