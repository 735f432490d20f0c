package dev.regmirror.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/**
 * {@code regmirror import FILE}: streams an image archive (from {@code regmirror export} or
 * {@code docker save}) to {@code POST /admin/import}, which puts its images into the cache under
 * their original names, and lists what was imported.
 */
@Command(name = "import", mixinStandardHelpOptions = true,
        description = "Put the images of an archive (regmirror export, docker save, an oci-archive) into the "
                + "cache of a running mirror, through the admin API, so that it serves them under their names.")
final class ImportCommand implements Callable<Integer> {

    /** How long the answer may take after the upload, unless {@code --timeout} says: the server reads the archive twice. */
    static final Duration ANSWER_LIMIT = Duration.ofMinutes(30);

    @Mixin
    private AdminOptions admin;

    @Parameters(index = "0", paramLabel = "FILE", description = "The archive (a tar).")
    private Path file;

    @Override
    public Integer call() throws InterruptedException {
        if (!Files.isRegularFile(file)) {
            System.err.println("regmirror: " + file + " is not a file");
            return 2;
        }
        JsonNode answer;
        try {
            answer = admin.client(ANSWER_LIMIT).postFile("/admin/import", file, "application/x-tar").body();
        } catch (AdminClient.Failure e) {
            System.err.println("regmirror: " + e.getMessage());
            return 1;
        }
        if (admin.output == AdminOptions.Output.json) {
            System.out.println(answer.toString());
            return 0;
        }
        Table table = new Table("REPOSITORY", "TAG", "DIGEST", "SIZE");
        for (JsonNode image : answer.path("images")) {
            table.row(image.path("name").asText(), image.path("tag").isNull() ? "<none>" : image.path("tag").asText(),
                    image.path("digest").asText(), Sizes.human(image.path("bytes").asLong()));
        }
        table.print(System.out);
        return 0;
    }
}
