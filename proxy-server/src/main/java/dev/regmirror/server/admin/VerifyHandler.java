package dev.regmirror.server.admin;

import dev.regmirror.core.error.InvalidRequestException;
import dev.regmirror.core.error.RegistryErrorCode;
import dev.regmirror.server.http.ErrorResponder;
import io.netty.handler.codec.http.HttpMethod;
import java.util.Map;
import java.util.Optional;
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
 * Without jobs (the cache in a bucket, whose blobs a verify does not read yet) it answers
 * {@code UNSUPPORTED}.
 */
@Sharable
public final class VerifyHandler extends SimpleChannelInboundHandler<AdminRequest.Verify> {

    private final Optional<VerifyJobs> jobs;
    private final ObjectMapper mapper;
    private final ErrorResponder errors;

    public VerifyHandler(Optional<VerifyJobs> jobs, ObjectMapper mapper, ErrorResponder errors) {
        this.jobs = jobs;
        this.mapper = mapper;
        this.errors = errors;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, AdminRequest.Verify request) {
        if (jobs.isEmpty()) {
            errors.send(ctx, HttpMethod.POST, request.keepAlive(), new InvalidRequestException(
                    RegistryErrorCode.UNSUPPORTED, "verify reads blobs on this machine's disk; with "
                    + "regmirror.storage.type = s3 it is not available yet", null, Map.of("Allow", "")));
            return;
        }
        VerifyJobs.Submitted submitted = jobs.get().submit();
        HttpResponseStatus status = submitted.started() ? HttpResponseStatus.ACCEPTED : HttpResponseStatus.OK;
        HttpResponse headers = new DefaultHttpResponse(HttpVersion.HTTP_1_1, status);
        headers.headers().set(HttpHeaderNames.LOCATION, "/admin/jobs/" + submitted.job().id());
        Responses.sendFull(ctx, status, "application/json; charset=utf-8",
                Unpooled.wrappedBuffer(Responses.json(mapper, VerifyJobJson.of(mapper, submitted.job()))), false,
                request.keepAlive(), headers);
    }
}
