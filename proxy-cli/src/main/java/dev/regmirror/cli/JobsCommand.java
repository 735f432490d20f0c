package dev.regmirror.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code regmirror jobs [ID]}: the admin API's jobs ({@code GET /admin/jobs}), or one of them. */
@Command(name = "jobs", mixinStandardHelpOptions = true,
        description = "List the prefetch and verify jobs the server remembers (newest first), or show one.")
final class JobsCommand implements Callable<Integer> {

    @Mixin
    private AdminOptions admin;

    @Parameters(paramLabel = "ID", arity = "0..1", description = "Only this job.")
    private String id;

    @Override
    public Integer call() throws InterruptedException {
        JsonNode body;
        try {
            body = admin.client().get(id == null ? "/admin/jobs" : "/admin/jobs/" + id).body();
        } catch (AdminClient.Failure e) {
            System.err.println("regmirror: " + e.getMessage());
            return 1;
        }
        if (admin.output == AdminOptions.Output.json) {
            System.out.println(body.toString());
            return 0;
        }
        Table table = new Table("ID", "STATE", "IMAGE", "PLATFORMS", "PROGRESS", "BLOBS", "STARTED", "ERROR");
        for (JsonNode job : id == null ? body.path("jobs") : List.of(body)) {
            List<String> platforms = new java.util.ArrayList<>();
            job.path("platforms").forEach(p -> platforms.add(p.asText()));
            JsonNode error = job.path("error");
            boolean verify = "verify".equals(job.path("type").asText());
            table.row(job.path("id").asText(), job.path("state").asText(),
                    verify ? "(verify: " + job.path("corrupt").asInt() + " corrupt)" : job.path("image").asText(),
                    verify ? "-" : platforms.isEmpty() ? "all" : String.join(",", platforms),
                    Sizes.human(job.path("bytesDone").asLong()) + " / " + Sizes.human(job.path("bytesTotal").asLong()),
                    job.path("blobsDone").asInt() + "/" + job.path("blobsTotal").asInt(),
                    job.path("started").asText("-"),
                    error.isObject() ? error.path("code").asText() + " " + error.path("message").asText() : "");
        }
        table.print(System.out);
        return 0;
    }
}
