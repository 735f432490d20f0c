package dev.regmirror.server.admin;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.regmirror.core.admin.RemovalPlan;
import java.util.List;

/** The answer of a purge or a prune: its {@link RemovalPlan} as JSON. */
final class RemovalJson {

    private RemovalJson() {
    }

    static ObjectNode of(RemovalPlan plan, ObjectMapper mapper, boolean dryRun) {
        ObjectNode body = mapper.createObjectNode();
        body.put("dryRun", dryRun);
        ArrayNode tagArray = body.putArray("tags");
        plan.tags().forEach(tag -> tagArray.add(tag.toString()));
        items(body.putArray("manifests"), plan.manifests());
        items(body.putArray("blobs"), plan.blobs());
        items(body.putArray("keptBlobs"), plan.kept());
        ArrayNode repositoryArray = body.putArray("repositories");
        plan.repositories().forEach(route -> repositoryArray.add(route.toString()));
        ArrayNode linkArray = body.putArray("hostedBlobLinks");
        plan.hostedLinks().forEach(link -> linkArray.add(link.toString()));
        body.put("bytesFreed", plan.bytesFreed());
        return body;
    }

    private static void items(ArrayNode array, List<RemovalPlan.Item> items) {
        for (RemovalPlan.Item item : items) {
            array.addObject().put("digest", item.digest().toString()).put("size", item.size());
        }
    }
}
