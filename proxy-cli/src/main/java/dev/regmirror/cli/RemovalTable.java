package dev.regmirror.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintStream;

/** Prints a purge or prune answer: the JSON as it came, or a table of what went and a line of what it freed. */
final class RemovalTable {

    private RemovalTable() {
    }

    static void print(JsonNode answer, AdminOptions.Output output, PrintStream out) {
        if (output == AdminOptions.Output.json) {
            out.println(answer.toString());
            return;
        }
        boolean dryRun = answer.path("dryRun").asBoolean();
        Table table = new Table(dryRun ? "WOULD REMOVE" : "REMOVED", "NAME", "SIZE");
        int rows = 0;
        for (JsonNode tag : answer.path("tags")) {
            table.row("tag", tag.asText(), "");
            rows++;
        }
        for (JsonNode link : answer.path("hostedBlobLinks")) {
            table.row("hosted link", link.asText(), "");
            rows++;
        }
        rows += items(table, "manifest", answer.path("manifests"));
        rows += items(table, "blob", answer.path("blobs"));
        for (JsonNode repository : answer.path("repositories")) {
            table.row("repository", repository.asText(), "");
            rows++;
        }
        int kept = items(table, "kept (shared)", answer.path("keptBlobs"));
        if (rows + kept > 0) {
            table.print(out);
        }
        String freed = Sizes.human(answer.path("bytesFreed").asLong());
        out.println(rows == 0 ? "Nothing to remove." : dryRun ? "Would free " + freed + " (dry run: nothing was removed)."
                : "Freed " + freed + ".");
    }

    private static int items(Table table, String what, JsonNode items) {
        int rows = 0;
        for (JsonNode item : items) {
            table.row(what, item.path("digest").asText(), Sizes.human(item.path("size").asLong()));
            rows++;
        }
        return rows;
    }
}
