package dev.regmirror.server.admin;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.regmirror.core.blob.BlobStore;
import dev.regmirror.core.verify.VerifyJob;
import dev.regmirror.core.verify.VerifyReport;

/**
 * A verify job as the admin API shows it: the progress fields of a prefetch job where they mean the
 * same ({@code blobsDone} blobs checked, {@code bytesDone} bytes hashed), its own counts, and once it
 * succeeded the {@code report}.
 */
final class VerifyJobJson {

    private VerifyJobJson() {
    }

    static ObjectNode of(ObjectMapper mapper, VerifyJob.Status job) {
        ObjectNode json = mapper.createObjectNode();
        json.put("id", job.id());
        json.put("type", "verify");
        json.put("state", job.state().name());
        json.put("bytesDone", job.bytesHashed());
        json.put("bytesTotal", job.bytesTotal());
        json.put("blobsDone", job.blobsChecked());
        json.put("blobsTotal", job.blobsTotal());
        json.put("corrupt", job.corrupt());
        json.put("manifestsDone", job.manifestsChecked());
        json.put("manifestsTotal", job.manifestsTotal());
        json.put("missingReferences", job.missingReferences());
        json.put("bytesPerSecond", job.bytesPerSecond());
        json.put("created", job.created().toString());
        json.put("started", job.created().toString());
        json.put("finished", job.finished().map(Object::toString).orElse(null));
        if (job.failure().isPresent()) {
            ObjectNode error = json.putObject("error");
            error.put("code", "UNKNOWN");
            error.put("message", job.failure().get());
        } else {
            json.putNull("error");
        }
        if (job.report().isPresent()) {
            report(json.putObject("report"), job.report().get());
        } else {
            json.putNull("report");
        }
        return json;
    }

    private static void report(ObjectNode json, VerifyReport report) {
        json.put("damaged", report.damaged());
        ArrayNode corrupt = json.putArray("corrupt");
        for (VerifyReport.Corrupt blob : report.corrupt()) {
            ObjectNode item = corrupt.addObject();
            item.put("digest", blob.digest().toString());
            item.put("size", blob.size());
            item.put("hosted", blob.hosted());
            item.put("problem", blob.problem());
            item.put("quarantinedAs", blob.quarantinedAs().toString());
            item.put("repair", blob.hosted() ? "hosted content: no upstream has it; push it again"
                    : "the next pull fetches it again from the upstream");
        }
        json.put("missingTotal", report.missingTotal());
        json.put("hostedMissingTotal", report.hostedMissingTotal());
        ArrayNode missing = json.putArray("missing");
        for (VerifyReport.Missing reference : report.missing()) {
            ObjectNode item = missing.addObject();
            item.put("manifest", reference.manifest().toString());
            item.put("kind", reference.kind().name());
            item.put("digest", reference.digest().toString());
            item.put("hosted", reference.hosted());
        }
        json.put("blobsGone", report.blobsGone());
        ArrayNode leftovers = json.putArray("ingestLeftovers");
        for (BlobStore.Leftover leftover : report.ingestLeftovers()) {
            ObjectNode item = leftovers.addObject();
            item.put("name", leftover.name());
            item.put("size", leftover.size());
            item.put("modified", leftover.modified().toString());
        }
    }
}
