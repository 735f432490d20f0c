package dev.regmirror.server.admin;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.regmirror.core.admin.ImageCatalog;
import dev.regmirror.core.mirror.Futures;
import dev.regmirror.core.storage.CacheStorage;
import dev.regmirror.server.http.ErrorResponder;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import java.util.concurrent.Executor;

/** {@code GET /admin/image?repository=&digest=}: the {@link ImageDetails} of one cached image, read on the disk executor. */
@Sharable
public final class ImageHandler extends SimpleChannelInboundHandler<AdminRequest.Image> {

    private final ImageDetails details;
    private final Executor diskExecutor;
    private final ObjectMapper mapper;
    private final ErrorResponder errors;

    public ImageHandler(ImageCatalog catalog, CacheStorage storage, Executor diskExecutor,
                        ObjectMapper mapper, ErrorResponder errors) {
        this.details = new ImageDetails(catalog, storage.cachedManifests(), storage.index());
        this.diskExecutor = diskExecutor;
        this.mapper = mapper;
        this.errors = errors;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, AdminRequest.Image request) {
        Futures.supplyOn(diskExecutor, () -> details.describe(request.repository(), request.digest(), mapper))
                .whenComplete((body, failure) -> AdminJson.send(ctx, request, mapper, body, null, failure, errors));
    }
}
