package dev.regmirror.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code regmirror verify}: starts a verify of the cache ({@code POST /admin/verify}), or joins the
 * one running, and prints its id; with {@code --wait} follows it to the end and prints what it
 * found, exiting {@value VerifyWatcher#DAMAGED} if it found damage (see docs/cli.md).
 */
@Command(name = "verify", mixinStandardHelpOptions = true,
        description = {"Re-hash every cached blob (at regmirror.cache.verify-rate), move corrupt ones to quarantine"
                + " and check that every cached manifest's blobs and children are there.",
                "Exit codes with --wait: 0 nothing damaged, 1 the verify failed or could not be followed,"
                        + " 3 corrupt blobs were found (and quarantined) or hosted content is missing."})
final class VerifyCommand implements Callable<Integer> {

    @Mixin
    private AdminOptions admin;

    @Option(names = "--wait", description = "Wait until the verify is done, showing its progress, then print what it"
            + " found; exit 3 if it found damage.")
    private boolean wait;

    @Override
    public Integer call() throws InterruptedException {
        AdminClient client = admin.client();
        JsonNode job;
        try {
            job = client.send("POST", "/admin/verify").body();
        } catch (AdminClient.Failure e) {
            System.err.println("regmirror: " + e.getMessage());
            return 1;
        }
        boolean json = admin.output == AdminOptions.Output.json;
        if (!wait) {
            if (json) {
                System.out.println(job.toString());
            } else {
                System.out.println("verify job " + job.path("id").asText() + " " + job.path("state").asText()
                        + " (follow it with: regmirror jobs " + job.path("id").asText() + ")");
            }
            return 0;
        }
        return new VerifyWatcher(client, admin.stallLimit(StallLimit.DEFAULT), json, System.console() != null,
                System.out, System.err).follow(job);
    }
}
