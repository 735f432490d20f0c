package dev.regmirror.server.admin;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.regmirror.core.mirror.PrefetchJob;

/** A prefetch job as the admin API shows it. */
final class JobJson {

    private JobJson() {
    }

    static ObjectNode of(ObjectMapper mapper, PrefetchJob.Status job) {
        ObjectNode json = mapper.createObjectNode();
        json.put("id", job.id());
        json.put("type", "prefetch");
        json.put("image", job.image());
        json.put("digest", job.digest().map(Object::toString).orElse(null));
        job.platforms().forEach(json.putArray("platforms")::add);
        json.put("state", job.state().name());
        json.put("bytesDone", job.bytesDone());
        json.put("bytesTotal", job.bytesTotal());
        json.put("blobsDone", job.blobsDone());
        json.put("blobsTotal", job.blobsTotal());
        json.put("blobsAlreadyCached", job.blobsAlreadyCached());
        json.put("created", job.created().toString());
        json.put("started", job.started().map(Object::toString).orElse(null));
        json.put("finished", job.finished().map(Object::toString).orElse(null));
        if (job.failure().isPresent()) {
            PrefetchJob.Failure failure = job.failure().get();
            ObjectNode error = json.putObject("error");
            error.put("code", failure.code().name());
            error.put("message", failure.message());
            error.put("upstream", failure.upstream().orElse(null));
        } else {
            json.putNull("error");
        }
        return json;
    }
}
