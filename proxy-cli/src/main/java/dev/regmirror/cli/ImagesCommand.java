package dev.regmirror.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.handler.codec.http.QueryStringEncoder;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code regmirror images}: the cached images, every page of {@code GET /admin/images}. */
@Command(name = "images", mixinStandardHelpOptions = true,
        description = "List the cached repositories, their tags, digests and sizes, from the admin API.")
final class ImagesCommand implements Callable<Integer> {

    @Mixin
    private AdminOptions admin;

    @Option(names = "--upstream", paramLabel = "REGISTRY", description = "Only this upstream's images (docker.io).")
    private String upstream;

    @Option(names = "--prefix", paramLabel = "NAME", description = "Only repositories starting with this (docker.io/library/).")
    private String prefix;

    @Override
    public Integer call() throws InterruptedException {
        ArrayNode repositories = new ObjectMapper().createArrayNode();
        try {
            AdminClient client = admin.client();
            Optional<String> next = Optional.of(firstPage());
            while (next.isPresent()) {
                AdminClient.Answer page = client.get(next.get());
                page.body().path("repositories").forEach(repositories::add);
                next = page.next();
            }
        } catch (AdminClient.Failure e) {
            System.err.println("regmirror: " + e.getMessage());
            return 1;
        }
        if (admin.output == AdminOptions.Output.json) {
            ObjectNode all = new ObjectMapper().createObjectNode();
            all.set("repositories", repositories);
            System.out.println(all.toString());
            return 0;
        }
        Table table = new Table("REPOSITORY", "TAG", "DIGEST", "SIZE", "CACHED", "PULLS", "LAST PULLED");
        for (JsonNode repository : repositories) {
            String name = repository.path("name").asText();
            boolean hosted = repository.path("hosted").asBoolean(false);
            if (repository.path("tags").isEmpty()) {
                table.row(name, "<none>", "", "", "", "", "");
            }
            for (JsonNode tag : repository.path("tags")) {
                String digest = tag.path("digest").asText();
                table.row(name, tag.path("tag").asText(), digest.length() > 19 ? digest.substring(0, 19) : digest,
                        Sizes.human(tag.path("size").asLong()),
                        hosted ? "hosted" : Sizes.human(tag.path("cachedBytes").asLong()),
                        tag.path("pulls").asText("0"), Table.time(tag.path("lastPulled")));
            }
        }
        table.print(System.out);
        return 0;
    }

    private String firstPage() {
        QueryStringEncoder query = new QueryStringEncoder("/admin/images");
        if (upstream != null && !upstream.isEmpty()) {
            query.addParam("upstream", upstream);
        }
        if (prefix != null && !prefix.isEmpty()) {
            query.addParam("prefix", prefix);
        }
        return query.toString();
    }
}
