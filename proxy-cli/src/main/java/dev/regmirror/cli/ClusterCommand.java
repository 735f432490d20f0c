package dev.regmirror.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.netty.handler.codec.http.QueryStringEncoder;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code regmirror cluster}: the nodes of the server's cluster and their states, from {@code GET /admin/cluster}. */
@Command(name = "cluster", mixinStandardHelpOptions = true,
        description = "Show the nodes of the server's cluster as it sees them: which are live, since when, and why "
                + "the others failed their health checks; with --digest, which node owns a blob.")
final class ClusterCommand implements Callable<Integer> {

    @Mixin
    private AdminOptions admin;

    @Option(names = "--digest", paramLabel = "DIGEST",
            description = "Also say which live node owns this blob now (sha256:...).")
    private String digest;

    @Override
    public Integer call() throws InterruptedException {
        QueryStringEncoder query = new QueryStringEncoder("/admin/cluster");
        if (digest != null) {
            query.addParam("digest", digest);
        }
        JsonNode cluster;
        try {
            cluster = admin.client().get(query.toString()).body();
        } catch (AdminClient.Failure e) {
            System.err.println("regmirror: " + e.getMessage());
            return 1;
        }
        if (admin.output == AdminOptions.Output.json) {
            System.out.println(cluster.toString());
            return 0;
        }
        if (!cluster.path("enabled").asBoolean()) {
            System.out.println("The server at " + admin.server + " is not in a cluster (regmirror.cluster.enabled is false).");
            return 0;
        }
        JsonNode nodes = cluster.path("nodes");
        long live = 0;
        Table table = new Table("NODE", "STATE", "SINCE", "FAILED CHECKS", "LAST ERROR");
        for (JsonNode node : nodes) {
            live += "live".equals(node.path("state").asText()) ? 1 : 0;
            table.row(node.path("node").asText() + (node.path("self").asBoolean() ? " (this node)" : ""),
                    node.path("state").asText(), Table.time(node.path("since")), node.path("failedChecks").asText(),
                    node.path("lastError").isTextual() ? Table.time(node.path("lastErrorAt")) + " "
                            + node.path("lastError").asText() : "-");
        }
        System.out.println(live + " of " + nodes.size() + " nodes live, as " + cluster.path("self").asText()
                + " sees them; peers from " + cluster.path("peersFrom").asText() + ", "
                + (cluster.path("tls").asBoolean() ? "TLS" : "plain HTTP") + " between the nodes");
        table.print(System.out);
        if (cluster.has("owner")) {
            System.out.println(cluster.path("digest").asText() + " is owned by " + cluster.path("owner").asText());
        }
        return 0;
    }
}
