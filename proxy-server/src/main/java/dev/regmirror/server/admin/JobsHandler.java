package dev.regmirror.server.admin;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.regmirror.core.error.InvalidRequestException;
import dev.regmirror.core.error.Printable;
import dev.regmirror.core.error.RegistryErrorCode;
import dev.regmirror.core.mirror.PrefetchJob;
import dev.regmirror.core.mirror.PrefetchJobs;
import dev.regmirror.server.http.ErrorResponder;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import java.util.Optional;

/**
 * {@code GET /admin/jobs} (every job kept, newest first) and {@code GET /admin/jobs/<id>} (one job,
 * 404 JOB_UNKNOWN if there is none by that id), read from memory.
 */
@Sharable
public final class JobsHandler extends SimpleChannelInboundHandler<AdminRequest.Jobs> {

    private final PrefetchJobs jobs;
    private final ObjectMapper mapper;
    private final ErrorResponder errors;

    public JobsHandler(PrefetchJobs jobs, ObjectMapper mapper, ErrorResponder errors) {
        this.jobs = jobs;
        this.mapper = mapper;
        this.errors = errors;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, AdminRequest.Jobs request) {
        if (request.id().isPresent()) {
            String id = request.id().get();
            Optional<PrefetchJob.Status> job = jobs.get(id);
            if (job.isEmpty()) {
                errors.send(ctx, request.method(), request.keepAlive(), new InvalidRequestException(
                        RegistryErrorCode.JOB_UNKNOWN, "no job " + Printable.of(id)
                        + " (jobs are kept in memory, the most recent ones, until the server restarts)"));
                return;
            }
            AdminJson.send(ctx, request, mapper, JobJson.of(mapper, job.get()), null, null, errors);
            return;
        }
        ObjectNode body = mapper.createObjectNode();
        ArrayNode list = body.putArray("jobs");
        jobs.list().forEach(job -> list.add(JobJson.of(mapper, job)));
        AdminJson.send(ctx, request, mapper, body, null, null, errors);
    }
}
