package dev.regmirror.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code regmirror purge}: removes an image, a repository, an upstream's images or everything, via {@code DELETE /admin/cache}. */
@Command(name = "purge", mixinStandardHelpOptions = true,
        description = "Remove cached images (blobs other images share are kept), through the admin API.")
final class PurgeCommand implements Callable<Integer> {

    @Mixin
    private AdminOptions admin;

    @Parameters(arity = "0..1", paramLabel = "IMAGE",
            description = "name:tag, name@digest or a whole repository (name), as clients pull it (alpine:3); "
                    + "name:tag@digest purges the digest, if the tag points to it.")
    private String image;

    @Option(names = "--upstream", paramLabel = "REGISTRY", description = "Every cached image of this upstream (ghcr.io).")
    private String upstream;

    @Option(names = "--all", description = "Everything in the cache (needs --yes).")
    private boolean all;

    @Option(names = "--yes", description = "Confirm --all.")
    private boolean yes;

    @Option(names = "--dry-run", description = "Only show what would be removed.")
    private boolean dryRun;

    @Override
    public Integer call() throws InterruptedException {
        int selectors = (image == null ? 0 : 1) + (upstream == null ? 0 : 1) + (all ? 1 : 0);
        if (selectors != 1) {
            System.err.println("regmirror: purge needs exactly one of IMAGE, --upstream REGISTRY or --all");
            return 2;
        }
        if (all && !yes && !dryRun) {
            System.err.println("regmirror: purge --all empties the whole cache; add --yes to confirm (or --dry-run)");
            return 2;
        }
        String query = image != null ? "image=" + encode(image)
                : upstream != null ? "upstream=" + encode(upstream) : "all=true";
        JsonNode answer;
        try {
            answer = admin.client().send("DELETE", "/admin/cache?" + query + (dryRun ? "&dryRun=true" : "")).body();
        } catch (AdminClient.Failure e) {
            System.err.println("regmirror: " + e.getMessage());
            return 1;
        }
        RemovalTable.print(answer, admin.output, System.out);
        return 0;
    }

    /** Percent-encodes a query value, leaving the {@code : / @} of image references readable. */
    static String encode(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("%3A", ":").replace("%2F", "/")
                .replace("%40", "@");
    }
}
