package dev.regmirror.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** How a prune's answer reads as a table: what the cache's prune removes, and the hosted blob links it collects. */
class RemovalTableTest {

    @Test
    void aPruneListsTheHostedLinksItCollectsBesideTheBlobs() throws Exception {
        String answer = "{\"dryRun\":true,\"tags\":[],\"manifests\":[],\"blobs\":[{\"digest\":\"sha256:152f\","
                + "\"size\":50}],\"keptBlobs\":[],\"repositories\":[],\"hostedBlobLinks\":"
                + "[\"local/lan/app@sha256:152f\"],\"bytesFreed\":50}";
        ByteArrayOutputStream out = new ByteArrayOutputStream();

        RemovalTable.print(new ObjectMapper().readTree(answer), AdminOptions.Output.table,
                new PrintStream(out, true, StandardCharsets.UTF_8));

        assertEquals(List.of(
                "WOULD REMOVE  NAME                       SIZE",
                "hosted link   local/lan/app@sha256:152f",
                "blob          sha256:152f                50 B",
                "Would free 50 B (dry run: nothing was removed)."),
                out.toString(StandardCharsets.UTF_8).lines().map(String::stripTrailing).toList());
    }
}
