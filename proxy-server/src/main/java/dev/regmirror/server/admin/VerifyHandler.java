package dev.regmirror.server.admin;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.regmirror.core.verify.VerifyJobs;
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
 * {@code POST /admin/verify}: starts a {@link VerifyJobs verify} of the whole cache and answers 202
 * with the job and its {@code Location}; while one runs, answers 200 with that one instead (one
 * verify at a time, so asking twice is harmless). Submitting only takes a lock: nothing here blocks.
 */
@Sharable
public final class VerifyHandler extends SimpleChannelInboundHandler<AdminRequest.Verify> {

    private final VerifyJobs jobs;
    private final ObjectMapper mapper;

    public VerifyHandler(VerifyJobs jobs, ObjectMapper mapper) {
        this.jobs = jobs;
        this.mapper = mapper;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, AdminRequest.Verify request) {
        VerifyJobs.Submitted submitted = jobs.submit();
        HttpResponseStatus status = submitted.started() ? HttpResponseStatus.ACCEPTED : HttpResponseStatus.OK;
        HttpResponse headers = new DefaultHttpResponse(HttpVersion.HTTP_1_1, status);
        headers.headers().set(HttpHeaderNames.LOCATION, "/admin/jobs/" + submitted.job().id());
        Responses.sendFull(ctx, status, "application/json; charset=utf-8",
                Unpooled.wrappedBuffer(Responses.json(mapper, VerifyJobJson.of(mapper, submitted.job()))), false,
                request.keepAlive(), headers);
    }
}
