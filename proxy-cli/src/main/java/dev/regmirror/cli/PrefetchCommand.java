package dev.regmirror.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code regmirror prefetch IMAGE}: starts a prefetch job ({@code POST /admin/prefetch}) and prints
 * its id, or with {@code --wait} follows it to the end, exiting 1 with the upstream's error if it
 * fails.
 */
@Command(name = "prefetch", mixinStandardHelpOptions = true,
        description = "Pull an image into the cache ahead of its first use (all platforms unless --platform).")
final class PrefetchCommand implements Callable<Integer> {

    @Mixin
    private AdminOptions admin;

    @Parameters(paramLabel = "IMAGE", description = "The image as you would pull it: alpine:3.19, ghcr.io/org/app:1.2, app@sha256:… "
            + "(with a tag and a digest, the digest is fetched).")
    private String image;

    @Option(names = "--platform", paramLabel = "OS/ARCH[/VARIANT]",
            description = "Only this platform of a multi-platform image (repeatable): linux/amd64, linux/arm64/v8.")
    private List<String> platforms = new ArrayList<>();

    @Option(names = "--wait", description = "Wait until the job is done, showing its progress; exit 1 if it fails.")
    private boolean wait;

    @Override
    public Integer call() throws InterruptedException {
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode body = mapper.createObjectNode();
        body.put("image", image);
        platforms.forEach(body.putArray("platforms")::add);
        AdminClient client = admin.client();
        JsonNode job;
        try {
            job = client.post("/admin/prefetch", body).body();
        } catch (AdminClient.Failure e) {
            System.err.println("regmirror: " + e.getMessage());
            return 1;
        }
        if (!wait) {
            if (admin.output == AdminOptions.Output.json) {
                System.out.println(job.toString());
            } else {
                System.out.println("prefetch job " + job.path("id").asText() + " " + job.path("state").asText() + ": "
                        + job.path("image").asText() + " (follow it with: regmirror jobs " + job.path("id").asText() + ")");
            }
            return 0;
        }
        return new JobWatcher(client, admin.stallLimit(StallLimit.DEFAULT), admin.output == AdminOptions.Output.json, System.console() != null, System.out,
                System.err).follow(job);
    }
}
