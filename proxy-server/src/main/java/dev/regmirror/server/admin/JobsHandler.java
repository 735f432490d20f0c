package dev.regmirror.server.admin;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.regmirror.core.error.InvalidRequestException;
import dev.regmirror.core.error.Printable;
import dev.regmirror.core.error.RegistryErrorCode;
import dev.regmirror.core.mirror.PrefetchJobs;
import dev.regmirror.core.verify.VerifyJobs;
import dev.regmirror.server.http.ErrorResponder;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * {@code GET /admin/jobs} (every prefetch and verify job kept, newest first) and
 * {@code GET /admin/jobs/<id>} (one job, 404 JOB_UNKNOWN if there is none by that id), read from memory.
 */
@Sharable
public final class JobsHandler extends SimpleChannelInboundHandler<AdminRequest.Jobs> {

    private final PrefetchJobs jobs;
    private final VerifyJobs verifies;
    private final ObjectMapper mapper;
    private final ErrorResponder errors;

    public JobsHandler(PrefetchJobs jobs, VerifyJobs verifies, ObjectMapper mapper, ErrorResponder errors) {
        this.jobs = jobs;
        this.verifies = verifies;
        this.mapper = mapper;
        this.errors = errors;
    }

    private record Listed(Instant created, ObjectNode json) {
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, AdminRequest.Jobs request) {
        if (request.id().isPresent()) {
            String id = request.id().get();
            Optional<ObjectNode> job = jobs.get(id).map(found -> JobJson.of(mapper, found))
                    .or(() -> verifies.get(id).map(found -> VerifyJobJson.of(mapper, found)));
            if (job.isEmpty()) {
                errors.send(ctx, request.method(), request.keepAlive(), new InvalidRequestException(
                        RegistryErrorCode.JOB_UNKNOWN, "no job " + Printable.of(id)
                        + " (jobs are kept in memory, the most recent ones, until the server restarts)"));
                return;
            }
            AdminJson.send(ctx, request, mapper, job.get(), null, null, errors);
            return;
        }
        ObjectNode body = mapper.createObjectNode();
        ArrayNode list = body.putArray("jobs");
        List<Listed> all = new ArrayList<>();
        jobs.list().forEach(job -> all.add(new Listed(job.created(), JobJson.of(mapper, job))));
        verifies.list().forEach(job -> all.add(new Listed(job.created(), VerifyJobJson.of(mapper, job))));
        // Each list is newest first; a stable sort keeps that order among jobs created in the same instant.
        all.sort(Comparator.comparing(Listed::created).reversed());
        all.forEach(job -> list.add(job.json()));
        AdminJson.send(ctx, request, mapper, body, null, null, errors);
    }
}
