package dev.regmirror.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.regmirror.core.manifest.MediaTypes;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.testing.BuiltImage;
import dev.regmirror.core.testing.RegistryProcess;
import dev.regmirror.core.testing.Skopeo;
import dev.regmirror.core.testing.TestImages;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code regmirror purge} and {@code regmirror prune}, the built jar run as a user runs it, against
 * {@code regmirror serve} (also the jar) with a real registry as its docker.io: tables, JSON, exit
 * codes and one-line failures.
 */
class PurgeCliIT {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path work;

    @Test
    void purgeAndPruneRemoveWhatTheySayAndFailInOneLine() throws Exception {
        try (RegistryProcess upstream = RegistryProcess.start(); Skopeo skopeo = new Skopeo()) {
            BuiltImage app = TestImages.singleArch(work.resolve("app"), "1.0", 2, 50_000, 51);
            BuiltImage web = TestImages.singleArch(work.resolve("web"), "2.0", 3, 50_000, 51);
            skopeo.copy(app.source(), "docker://" + upstream.hostPort() + "/library/app:1.0");
            skopeo.copy(web.source(), "docker://" + upstream.hostPort() + "/team/web:2.0");
            int port = RegmirrorProcess.freePort();
            int adminPort = RegmirrorProcess.freePort();
            String server = "http://127.0.0.1:" + adminPort;
            Path config = RegmirrorProcess.config(work, "application", port, adminPort, "cache",
                    upstream.url().toString(), "regmirror.admin.token = \"s3cret\"");
            try (RegmirrorProcess mirror = RegmirrorProcess.serve(work, config, port, List.of())) {
                skopeo.copyToDir("docker://127.0.0.1:" + port + "/app:1.0", work.resolve("pulled-app"));
                skopeo.copyToDir("docker://127.0.0.1:" + port + "/team/web:2.0", work.resolve("pulled-web"));
                Digest appOnly = app.manifest().config().digest();

                RegmirrorProcess.Finished dry = admin(server, "purge", "app:1.0", "--dry-run", "-o", "json");
                assertEquals(0, dry.exitCode(), dry.output());
                JsonNode planned = JSON.readTree(dry.output());
                assertTrue(planned.get("dryRun").asBoolean());
                assertEquals(app.digest().toString(), planned.get("manifests").get(0).get("digest").asText());
                assertTrue(Files.exists(blobFile(appOnly)), "a dry run removes nothing");

                RegmirrorProcess.Finished purged = admin(server, "purge", "app:1.0");
                assertEquals(0, purged.exitCode(), purged.output());
                String table = purged.output();
                assertTrue(table.startsWith("REMOVED"), table);
                assertTrue(table.contains("tag            docker.io/library/app:1.0"), table);
                assertTrue(table.contains("manifest       " + app.digest()), table);
                assertTrue(table.contains("blob           " + appOnly), table);
                assertTrue(table.contains("repository     docker.io/library/app"), table);
                assertTrue(table.contains("kept (shared)  " + app.manifest().layers().get(0).digest()), table);
                long freed = planned.get("bytesFreed").asLong();
                assertTrue(table.endsWith("Freed " + Sizes.human(freed) + ".\n"), table);
                assertFalse(Files.exists(blobFile(appOnly)));
                assertTrue(Files.exists(blobFile(app.manifest().layers().get(0).digest())), "web shares it");

                RegmirrorProcess.Finished again = admin(server, "purge", "app:1.0");
                assertEquals(1, again.exitCode(), again.output());
                assertEquals("regmirror: the admin API at " + server + " answered 404 to /admin/cache?image=app:1.0:"
                        + " MANIFEST_UNKNOWN nothing cached matches docker.io/library/app:1.0\n", again.output());

                RegmirrorProcess.Finished badTag = admin(server, "purge", "app:-x");
                assertEquals(1, badTag.exitCode(), badTag.output());
                assertTrue(badTag.output().contains("answered 400") && badTag.output().contains("TAG_INVALID"),
                        badTag.output());
                assertEquals(1, badTag.output().lines().count(), badTag.output());

                RegmirrorProcess.Finished none = admin(server, "purge");
                assertEquals(2, none.exitCode(), none.output());
                assertEquals("regmirror: purge needs exactly one of IMAGE, --upstream REGISTRY or --all\n", none.output());
                RegmirrorProcess.Finished unconfirmed = admin(server, "purge", "--all");
                assertEquals(2, unconfirmed.exitCode(), unconfirmed.output());
                assertEquals(1, unconfirmed.output().lines().count(), unconfirmed.output());

                // The app manifest again, by digest only: an untagged manifest, for prune.
                HttpResponse<Void> byDigest = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + port + "/v2/library/app/manifests/" + app.digest()))
                        .header("Accept", MediaTypes.ACCEPT_ALL_HEADER).build(), HttpResponse.BodyHandlers.discarding());
                assertEquals(200, byDigest.statusCode());

                RegmirrorProcess.Finished wouldPrune = admin(server, "prune", "--dry-run");
                assertEquals(0, wouldPrune.exitCode(), wouldPrune.output());
                assertTrue(wouldPrune.output().startsWith("WOULD REMOVE"), wouldPrune.output());
                assertTrue(wouldPrune.output().contains("manifest      " + app.digest()), wouldPrune.output());
                assertTrue(wouldPrune.output().contains("(dry run: nothing was removed)"), wouldPrune.output());

                RegmirrorProcess.Finished pruned = admin(server, "prune", "-o", "json");
                assertEquals(0, pruned.exitCode(), pruned.output());
                JsonNode prunedJson = JSON.readTree(pruned.output());
                assertEquals(app.digest().toString(), prunedJson.get("manifests").get(0).get("digest").asText());
                assertEquals(app.top().size(), prunedJson.get("bytesFreed").asLong());
                RegmirrorProcess.Finished nothing = admin(server, "prune");
                assertEquals(0, nothing.exitCode(), nothing.output());
                assertEquals("Nothing to remove.\n", nothing.output());

                RegmirrorProcess.Finished refused = RegmirrorProcess.run(work, List.of(), "purge", "--all", "--yes",
                        "--server", server, "--token", "wrong");
                assertEquals(1, refused.exitCode(), refused.output());
                assertEquals("regmirror: the admin API at " + server
                        + " refused the request (401): UNAUTHORIZED wrong admin token\n", refused.output());

                RegmirrorProcess.Finished everything = admin(server, "purge", "--all", "--yes", "-o", "json");
                assertEquals(0, everything.exitCode(), everything.output());
                assertEquals(List.of("docker.io/team/web:2.0"), List.of(JSON.readTree(everything.output())
                        .get("tags").get(0).asText()));
                RegmirrorProcess.Finished usage = admin(server, "usage", "-o", "json");
                assertEquals(0, JSON.readTree(usage.output()).get("totalBytes").asLong(), usage.output());
            }
        }
    }

    private RegmirrorProcess.Finished admin(String server, String... args) throws Exception {
        List<String> all = new java.util.ArrayList<>(List.of(args));
        all.addAll(List.of("--server", server, "--token", "s3cret"));
        return RegmirrorProcess.run(work, List.of(), all.toArray(String[]::new));
    }

    private Path blobFile(Digest digest) {
        return work.resolve("cache/blobs").resolve(digest.algorithm()).resolve(digest.hex().substring(0, 2))
                .resolve(digest.hex());
    }
}
