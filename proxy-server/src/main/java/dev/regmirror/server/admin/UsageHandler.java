package dev.regmirror.server.admin;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.regmirror.core.admin.CacheUsage;
import dev.regmirror.core.mirror.Futures;
import dev.regmirror.core.storage.CacheStorage;
import dev.regmirror.server.http.ErrorResponder;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import java.util.concurrent.Executor;

/**
 * {@code GET /admin/usage}: the cache's {@link CacheUsage}, measured on the disk executor (it reads
 * every cached manifest).
 */
@Sharable
public final class UsageHandler extends SimpleChannelInboundHandler<AdminRequest.Usage> {

    private final CacheStorage storage;
    private final Executor diskExecutor;
    private final ObjectMapper mapper;
    private final ErrorResponder errors;

    public UsageHandler(CacheStorage storage, Executor diskExecutor, ObjectMapper mapper, ErrorResponder errors) {
        this.storage = storage;
        this.diskExecutor = diskExecutor;
        this.mapper = mapper;
        this.errors = errors;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, AdminRequest.Usage request) {
        Futures.supplyOn(diskExecutor, () -> toJson(CacheUsage.measure(storage))).whenComplete(
                (body, failure) -> AdminJson.send(ctx, request, mapper, body, null, failure, errors));
    }

    private ObjectNode toJson(CacheUsage usage) {
        ObjectNode body = mapper.createObjectNode();
        body.put("totalBytes", usage.totalBytes());
        body.put("blobs", usage.blobs());
        body.put("manifests", usage.manifests());
        body.put("sharedBytesSaved", usage.sharedBytesSaved());
        body.put("reclaimableBytes", usage.reclaimableBytes());
        body.put("freeBytes", usage.freeBytes());
        body.put("maxBytes", usage.maxBytes());
        body.put("hostedBytes", usage.hostedBytes());
        body.put("hostedBlobs", usage.hostedBlobs());
        body.put("hostedRepositories", usage.hostedRepositories());
        return body;
    }
}
