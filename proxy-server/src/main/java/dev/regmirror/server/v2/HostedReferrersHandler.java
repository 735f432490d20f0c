package dev.regmirror.server.v2;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.regmirror.core.hosted.HostedManifests;
import dev.regmirror.core.hosted.Referrer;
import dev.regmirror.core.manifest.MediaTypes;
import dev.regmirror.core.mirror.Futures;
import dev.regmirror.server.http.ErrorResponder;
import dev.regmirror.server.http.Responses;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.util.List;
import java.util.concurrent.Executor;

/**
 * {@code GET|HEAD /v2/<name>/referrers/<digest>} of a hosted repository, as the
 * <a href="https://github.com/opencontainers/distribution-spec/blob/main/spec.md#listing-referrers">spec</a>
 * lists referrers: an OCI image index of the manifests whose {@code subject} is that digest (200 with
 * an empty list when there are none), filtered by {@code ?artifactType=} with
 * {@code OCI-Filters-Applied: artifactType}. Mirrored names pass on.
 */
@Sharable
public final class HostedReferrersHandler extends SimpleChannelInboundHandler<V2Request.Referrers> {

    private final HostedManifests manifests;
    private final Executor diskExecutor;
    private final ObjectMapper mapper;
    private final ErrorResponder errors;

    public HostedReferrersHandler(HostedManifests manifests, Executor diskExecutor, ObjectMapper mapper,
                            ErrorResponder errors) {
        super(false);
        this.manifests = manifests;
        this.diskExecutor = diskExecutor;
        this.mapper = mapper;
        this.errors = errors;
    }

    @Override
    public boolean acceptInboundMessage(Object msg) throws Exception {
        return super.acceptInboundMessage(msg) && ((V2Request.Referrers) msg).route().hosted();
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, V2Request.Referrers request) {
        Futures.supplyOn(diskExecutor, () -> manifests.referrers(request.route(), request.subject(),
                request.artifactType())).whenComplete((referrers, failure) -> ctx.executor().execute(() -> {
                    if (failure != null) {
                        errors.send(ctx, request.method(), request.keepAlive(), failure);
                    } else {
                        respond(ctx, request, referrers);
                    }
                }));
    }

    private void respond(ChannelHandlerContext ctx, V2Request.Referrers request, List<Referrer> referrers) {
        ObjectNode index = mapper.createObjectNode();
        index.put("schemaVersion", 2);
        index.put("mediaType", MediaTypes.OCI_INDEX);
        ArrayNode entries = index.putArray("manifests");
        for (Referrer referrer : referrers) {
            ObjectNode entry = entries.addObject();
            entry.put("mediaType", referrer.mediaType());
            entry.put("digest", referrer.digest().toString());
            entry.put("size", referrer.size());
            referrer.artifactType().ifPresent(type -> entry.put("artifactType", type));
            if (!referrer.annotations().isEmpty()) {
                ObjectNode annotations = entry.putObject("annotations");
                referrer.annotations().forEach(annotations::put);
            }
        }
        HttpResponse headers = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        if (request.artifactType().isPresent()) {
            headers.headers().set("OCI-Filters-Applied", "artifactType");
        }
        Responses.sendFull(ctx, HttpResponseStatus.OK, MediaTypes.OCI_INDEX,
                Unpooled.wrappedBuffer(Responses.json(mapper, index)), request.isHead(), request.keepAlive(), headers);
    }
}
