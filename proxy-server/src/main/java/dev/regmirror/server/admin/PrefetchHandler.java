package dev.regmirror.server.admin;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.regmirror.core.error.ProxyException;
import dev.regmirror.core.mirror.PrefetchJob;
import dev.regmirror.core.mirror.PrefetchJobs;
import dev.regmirror.server.http.ErrorResponder;
import dev.regmirror.server.http.Responses;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;

/**
 * {@code POST /admin/prefetch}: queues a {@link PrefetchJobs prefetch job} and answers 202 with the
 * job and its {@code Location}; an image whose registry no upstream serves is 404 NAME_UNKNOWN, as
 * on the registry API. Submitting only routes the name and queues: nothing here blocks.
 */
@Sharable
public final class PrefetchHandler extends SimpleChannelInboundHandler<AdminRequest.Prefetch> {

    private final PrefetchJobs jobs;
    private final ObjectMapper mapper;
    private final ErrorResponder errors;

    public PrefetchHandler(PrefetchJobs jobs, ObjectMapper mapper, ErrorResponder errors) {
        this.jobs = jobs;
        this.mapper = mapper;
        this.errors = errors;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, AdminRequest.Prefetch request) {
        PrefetchJob.Status job;
        try {
            job = jobs.submit(request.image(), request.platforms());
        } catch (ProxyException e) {
            errors.send(ctx, request.method(), request.keepAlive(), e);
            return;
        }
        HttpResponse headers = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.ACCEPTED);
        headers.headers().set(HttpHeaderNames.LOCATION, "/admin/jobs/" + job.id());
        Responses.sendFull(ctx, HttpResponseStatus.ACCEPTED, "application/json; charset=utf-8",
                Unpooled.wrappedBuffer(Responses.json(mapper, JobJson.of(mapper, job))), false, request.keepAlive(),
                headers);
    }
}
