package dev.regmirror.server.v2;

import dev.regmirror.core.error.InvalidRequestException;
import dev.regmirror.core.error.RegistryErrorCode;
import dev.regmirror.core.hosted.HostedManifests;
import dev.regmirror.core.mirror.Futures;
import dev.regmirror.core.mirror.ManifestAnswer;
import dev.regmirror.server.http.ErrorResponder;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import java.util.Optional;
import java.util.concurrent.Executor;

/**
 * {@code GET|HEAD /v2/<name>/manifests/<reference>} of a hosted repository: the manifest as pushed,
 * with the media type it was pushed as, answered as {@link ManifestHandler} answers a mirrored one
 * (digest, ETag, 304 on If-None-Match); 404 MANIFEST_UNKNOWN when the repository does not hold it.
 * Never asks an upstream. Mirrored names pass on to {@link ManifestHandler}.
 */
@Sharable
public final class HostedManifestHandler extends SimpleChannelInboundHandler<V2Request.Manifest> {

    private final HostedManifests manifests;
    private final Executor diskExecutor;
    private final ErrorResponder errors;

    public HostedManifestHandler(HostedManifests manifests, Executor diskExecutor, ErrorResponder errors) {
        super(false);
        this.manifests = manifests;
        this.diskExecutor = diskExecutor;
        this.errors = errors;
    }

    @Override
    public boolean acceptInboundMessage(Object msg) throws Exception {
        return super.acceptInboundMessage(msg) && ((V2Request.Manifest) msg).route().hosted();
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, V2Request.Manifest request) {
        Futures.supplyOn(diskExecutor, () -> manifests.get(request.route(), request.reference()))
                .whenComplete((found, failure) -> ctx.executor().execute(() -> {
                    if (failure != null) {
                        errors.send(ctx, request.method(), request.keepAlive(), failure);
                    } else if (found.isEmpty()) {
                        errors.send(ctx, request.method(), request.keepAlive(), new InvalidRequestException(
                                RegistryErrorCode.MANIFEST_UNKNOWN, "manifest " + request.reference() + " is not in "
                                + request.route()));
                    } else {
                        ManifestHandler.respond(ctx, request, new ManifestAnswer(found.get(), Optional.empty()));
                    }
                }));
    }
}
