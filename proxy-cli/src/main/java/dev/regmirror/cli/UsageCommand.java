package dev.regmirror.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code regmirror usage}: what the cache holds and could give back, from {@code GET /admin/usage}. */
@Command(name = "usage", mixinStandardHelpOptions = true,
        description = "Show the cache's disk usage (like docker system df), from the admin API.")
final class UsageCommand implements Callable<Integer> {

    @Mixin
    private AdminOptions admin;

    @Override
    public Integer call() throws InterruptedException {
        JsonNode usage;
        try {
            usage = admin.client().get("/admin/usage").body();
        } catch (AdminClient.Failure e) {
            System.err.println("regmirror: " + e.getMessage());
            return 1;
        }
        if (admin.output == AdminOptions.Output.json) {
            System.out.println(usage.toString());
            return 0;
        }
        long max = usage.path("maxBytes").asLong();
        Table table = new Table("WHAT", "SIZE", "DETAIL")
                .row("cache", Sizes.human(usage.path("totalBytes").asLong()),
                        usage.path("blobs").asLong() + " blobs, " + usage.path("manifests").asLong() + " manifests");
        if (usage.path("hostedRepositories").asLong() > 0) {
            table.row("hosted", Sizes.human(usage.path("hostedBytes").asLong()), usage.path("hostedBlobs").asLong()
                    + " blobs and manifests of " + usage.path("hostedRepositories").asLong()
                    + " hosted repositories, kept whatever the cap");
        }
        table
                .row("shared", Sizes.human(usage.path("sharedBytesSaved").asLong()), "saved by layers images share")
                .row("reclaimable", Sizes.human(usage.path("reclaimableBytes").asLong()),
                        "blobs no cached manifest references")
                .row("cap", max == 0 ? "none" : Sizes.human(max), "cache.max-size")
                .row("free", Sizes.human(usage.path("freeBytes").asLong()), "on the cache's file system")
                .print(System.out);
        return 0;
    }
}
