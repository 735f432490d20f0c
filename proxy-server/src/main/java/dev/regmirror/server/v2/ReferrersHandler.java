package dev.regmirror.server.v2;

import dev.regmirror.core.mirror.PullThroughReferrers;
import dev.regmirror.core.mirror.ReferrersAnswer;
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

/**
 * {@code GET|HEAD /v2/<name>/referrers/<digest>} of a mirrored repository: the upstream's list of the
 * manifests that refer to the digest (see {@link PullThroughReferrers}), with {@code OCI-Filters-Applied:
 * artifactType} when the filter was applied, and {@code Warning: 299} when served stale. Referrers of
 * hosted repositories pass on to the handler of hosted repositories.
 */
@Sharable
public final class ReferrersHandler extends SimpleChannelInboundHandler<V2Request.Referrers> {

    /** The header that says which filters an answer applied. */
    public static final String FILTERS_APPLIED = "OCI-Filters-Applied";

    private final PullThroughReferrers referrers;
    private final ErrorResponder errors;

    public ReferrersHandler(PullThroughReferrers referrers, ErrorResponder errors) {
        this.referrers = referrers;
        this.errors = errors;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, V2Request.Referrers request) {
        if (request.route().hosted()) {
            ctx.fireChannelRead(request);
            return;
        }
        referrers.list(request.route(), request.subject(), request.artifactType())
                .whenComplete((answer, failure) -> ctx.executor().execute(() -> {
                    if (failure != null) {
                        errors.send(ctx, request.method(), request.keepAlive(), failure);
                    } else {
                        respond(ctx, request, answer);
                    }
                }));
    }

    private static void respond(ChannelHandlerContext ctx, V2Request.Referrers request, ReferrersAnswer answer) {
        HttpResponse headers = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        if (answer.filtered()) {
            headers.headers().set(FILTERS_APPLIED, "artifactType");
        }
        answer.staleBecause().ifPresent(why -> headers.headers().set("Warning", Responses.staleWarning(why)));
        Responses.sendFull(ctx, HttpResponseStatus.OK, answer.mediaType(), Unpooled.wrappedBuffer(answer.index()),
                request.isHead(), request.keepAlive(), headers);
    }
}
