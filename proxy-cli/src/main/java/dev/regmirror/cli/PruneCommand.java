package dev.regmirror.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code regmirror prune}: removes untagged manifests and unreferenced blobs, via {@code POST /admin/prune}. */
@Command(name = "prune", mixinStandardHelpOptions = true,
        description = "Remove manifests no tag points to and blobs no cached manifest references, through the admin API.")
final class PruneCommand implements Callable<Integer> {

    @Mixin
    private AdminOptions admin;

    @Option(names = "--dry-run", description = "Only show what would be removed.")
    private boolean dryRun;

    @Override
    public Integer call() throws InterruptedException {
        JsonNode answer;
        try {
            answer = admin.client().send("POST", "/admin/prune" + (dryRun ? "?dryRun=true" : "")).body();
        } catch (AdminClient.Failure e) {
            System.err.println("regmirror: " + e.getMessage());
            return 1;
        }
        RemovalTable.print(answer, admin.output, System.out);
        return 0;
    }
}
