package dev.regmirror.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.regmirror.core.manifest.Descriptor;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.testing.BuiltImage;
import dev.regmirror.core.testing.BuiltManifest;
import dev.regmirror.core.testing.Closing;
import dev.regmirror.core.testing.RegistryProcess;
import dev.regmirror.core.testing.Skopeo;
import dev.regmirror.core.testing.TestImages;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The admin API against a real server whose docker.io is a real registry: after images are pulled
 * through regmirror with skopeo, {@code /admin/usage} adds up to the bytes on disk and
 * {@code /admin/images} lists the images with their digests; the token rules; the main listener's
 * {@code /healthz} and {@code /readyz}.
 */
class AdminIT {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path work;

    private static RegistryProcess upstream;
    private static Skopeo skopeo;
    private static MirrorFixture mirror;
    private static BuiltImage single;
    private static BuiltImage multi;
    private static byte[] loose;

    @BeforeAll
    static void pullImagesThroughTheMirror() throws Exception {
        upstream = RegistryProcess.start();
        skopeo = new Skopeo();
        single = TestImages.singleArch(work.resolve("single"), "1.0", 2, 100_000, 21);
        multi = TestImages.multiArch(work.resolve("multi"), "2.0", List.of("linux/amd64", "linux/arm64/v8"), 2,
                80_000, 22);
        skopeo.copy(single.source(), "docker://" + upstream.hostPort() + "/library/app:1.0");
        skopeo.copy(multi.source(), "docker://" + upstream.hostPort() + "/team/multi:2.0", "--all");
        loose = new byte[30_000];
        new Random(23).nextBytes(loose);
        upload(upstream.url(), "library/loose", loose);
        mirror = MirrorFixture.start(upstream.url(), work.resolve("cache"), Map.of());
        skopeo.copyToDir("docker://" + mirror.hostPort() + "/app:1.0", work.resolve("pulled-app"));
        skopeo.copyToOci("docker://" + mirror.hostPort() + "/team/multi:2.0", work.resolve("pulled-multi"), "2.0", "--all");
        HttpResponse<byte[]> blob = mirror.get("/v2/library/loose/blobs/" + Digest.sha256Of(loose));
        assertEquals(200, blob.statusCode(), "a blob no cached manifest references");
        mirror.awaitFillsCommitted(); // the last blob is committed just after its response ends
    }

    @AfterAll
    static void stop() throws Exception {
        Closing.all(mirror, skopeo, upstream);
    }

    @Test
    void usageAddsUpToTheBytesOnDisk() throws Exception {
        HttpResponse<byte[]> response = get(mirror.adminUri("/admin/usage"), null);
        assertEquals(200, response.statusCode(), new String(response.body()));
        JsonNode usage = JSON.readTree(response.body());
        long onDisk;
        long files;
        try (Stream<Path> walk = Files.walk(work.resolve("cache/blobs"))) {
            List<Path> blobs = walk.filter(Files::isRegularFile).toList();
            files = blobs.size();
            onDisk = blobs.stream().mapToLong(AdminIT::size).sum();
        }
        assertEquals(onDisk, usage.get("totalBytes").asLong(), usage.toString());
        assertEquals(files, usage.get("blobs").asLong(), usage.toString());
        assertEquals(4, usage.get("manifests").asInt(), "app, the index and its two images: " + usage);
        long sharedBase = multi.manifests().get(0).layers().get(0).size();
        assertEquals(sharedBase, usage.get("sharedBytesSaved").asLong(), "the index's images share their first layer");
        assertEquals(loose.length, usage.get("reclaimableBytes").asLong(), "only the loose blob is unreferenced");
        assertEquals(0, usage.get("maxBytes").asLong());
        assertTrue(usage.get("freeBytes").asLong() > 0, usage.toString());
    }

    @Test
    void imagesListsEachPulledTagWithItsDigestAndSize() throws Exception {
        HttpResponse<byte[]> response = get(mirror.adminUri("/admin/images"), null);
        assertEquals(200, response.statusCode(), new String(response.body()));
        JsonNode repositories = JSON.readTree(response.body()).get("repositories");
        assertEquals(List.of("docker.io/library/app", "docker.io/team/multi"), names(repositories));
        JsonNode app = repositories.get(0).get("tags").get(0);
        assertEquals("1.0", app.get("tag").asText());
        assertEquals(single.digest().toString(), app.get("digest").asText());
        long appSize = single.top().size() + single.blobs().stream().mapToLong(Descriptor::size).sum();
        assertEquals(appSize, app.get("size").asLong(), app.toString());
        assertEquals(appSize, app.get("cachedBytes").asLong(), app.toString());
        assertFalse(app.get("lastResolved").asText().isEmpty());
        assertEquals(1, app.get("pulls").asLong(), "skopeo asked for the tag once: " + app);
        assertFalse(app.get("lastPulled").isNull(), app.toString());

        JsonNode index = repositories.get(1).get("tags").get(0);
        assertEquals(multi.digest().toString(), index.get("digest").asText());
        long multiSize = multi.top().size();
        for (BuiltManifest manifest : multi.manifests()) {
            multiSize += manifest.manifest().size() + manifest.config().size()
                    + manifest.layers().stream().mapToLong(Descriptor::size).sum();
        }
        assertEquals(multiSize, index.get("size").asLong(), "declared sizes, the shared base counted per image");
    }

    @Test
    void imagesFilterAndPage() throws Exception {
        JsonNode team = JSON.readTree(get(mirror.adminUri("/admin/images?prefix=docker.io/team/"), null).body());
        assertEquals(List.of("docker.io/team/multi"), names(team.get("repositories")));
        JsonNode other = JSON.readTree(get(mirror.adminUri("/admin/images?upstream=ghcr.io"), null).body());
        assertEquals(List.of(), names(other.get("repositories")));

        HttpResponse<byte[]> first = get(mirror.adminUri("/admin/images?n=1"), null);
        assertEquals(List.of("docker.io/library/app"), names(JSON.readTree(first.body()).get("repositories")));
        String link = first.headers().firstValue("Link").orElseThrow();
        assertEquals("</admin/images?n=1&last=docker.io%2Flibrary%2Fapp>; rel=\"next\"", link);
        HttpResponse<byte[]> second = get(mirror.adminUri(link.substring(1, link.indexOf('>'))), null);
        assertEquals(List.of("docker.io/team/multi"), names(JSON.readTree(second.body()).get("repositories")));
        assertTrue(second.headers().firstValue("Link").isEmpty(), "the last page has no next");
    }

    @Test
    void unknownPathsAndMethodsAreRegistryStyleErrors() throws Exception {
        HttpResponse<byte[]> missing = get(mirror.adminUri("/admin/nothing"), null);
        assertEquals(404, missing.statusCode());
        assertEquals("NOT_FOUND", JSON.readTree(missing.body()).get("errors").get(0).get("code").asText());
        HttpResponse<byte[]> post = mirror.http().send(HttpRequest.newBuilder(mirror.adminUri("/admin/usage"))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(405, post.statusCode());
    }

    @Test
    void withATokenConfiguredEveryRequestMustCarryIt() throws Exception {
        try (MirrorFixture guarded = MirrorFixture.start(upstream.url(), work.resolve("cache-token"),
                Map.of("regmirror.admin.token", "s3cret"))) {
            HttpResponse<byte[]> without = get(guarded.adminUri("/admin/usage"), null);
            assertEquals(401, without.statusCode());
            assertEquals("UNAUTHORIZED", JSON.readTree(without.body()).get("errors").get(0).get("code").asText());
            HttpResponse<byte[]> wrong = get(guarded.adminUri("/admin/images"), "s3cre");
            assertEquals(401, wrong.statusCode());
            assertEquals("wrong admin token", JSON.readTree(wrong.body()).get("errors").get(0).get("message").asText());
            HttpResponse<byte[]> right = get(guarded.adminUri("/admin/usage"), "s3cret");
            assertEquals(200, right.statusCode(), new String(right.body()));
            assertEquals(0, JSON.readTree(right.body()).get("totalBytes").asLong());
        }
    }

    @Test
    void healthzAndReadyzAnswerOnTheRegistryPort() throws Exception {
        HttpResponse<byte[]> health = mirror.get("/healthz");
        assertEquals(200, health.statusCode());
        assertEquals("{\"status\":\"ok\"}", new String(health.body()));
        HttpResponse<byte[]> ready = mirror.get("/readyz");
        assertEquals(200, ready.statusCode(), new String(ready.body()));
        try (Stream<Path> ingest = Files.list(work.resolve("cache/ingest"))) {
            assertEquals(List.of(), ingest.toList(), "the probe file is gone");
        }
        assertEquals(404, get(mirror.adminUri("/healthz"), null).statusCode(), "not on the admin listener");
    }

    @Test
    void readyzIs503WhenTheCacheCannotBeWritten() throws Exception {
        try (MirrorFixture broken = MirrorFixture.start(upstream.url(), work.resolve("cache-broken"), Map.of())) {
            Path ingest = work.resolve("cache-broken/ingest");
            Files.delete(ingest);
            Files.writeString(ingest, "not a directory");
            HttpResponse<byte[]> ready = broken.get("/readyz");
            assertEquals(503, ready.statusCode());
            JsonNode body = JSON.readTree(ready.body());
            assertEquals("not ready", body.get("status").asText());
            assertTrue(body.get("reason").asText().contains("not writable"), body.toString());
            assertEquals(200, broken.get("/healthz").statusCode(), "alive all the same");
        }
    }

    private static HttpResponse<byte[]> get(URI uri, String token) throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri).GET();
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return mirror.http().send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    private static List<String> names(JsonNode repositories) {
        return java.util.stream.StreamSupport.stream(repositories.spliterator(), false)
                .map(repository -> repository.get("name").asText()).toList();
    }

    private static long size(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Pushes one blob to the registry with a monolithic upload (POST, then PUT with the digest). */
    static void upload(URI registry, String name, byte[] bytes) throws IOException, InterruptedException {
        java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
        HttpResponse<Void> started = http.send(HttpRequest.newBuilder(registry.resolve("/v2/" + name + "/blobs/uploads/"))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.discarding());
        assertEquals(202, started.statusCode());
        String location = started.headers().firstValue("Location").orElseThrow();
        URI put = registry.resolve(location + (location.contains("?") ? "&" : "?") + "digest=" + Digest.sha256Of(bytes));
        HttpResponse<Void> done = http.send(HttpRequest.newBuilder(put).PUT(HttpRequest.BodyPublishers.ofByteArray(bytes))
                .header("Content-Type", "application/octet-stream").build(), HttpResponse.BodyHandlers.discarding());
        assertEquals(201, done.statusCode());
    }
}
