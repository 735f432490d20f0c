package dev.regmirror.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.storage.CacheLayout;
import dev.regmirror.core.testing.BuiltImage;
import dev.regmirror.core.testing.Closing;
import dev.regmirror.core.testing.LoggedRequest;
import dev.regmirror.core.testing.RegistryProcess;
import dev.regmirror.core.testing.Skopeo;
import dev.regmirror.core.testing.TestCredentials;
import dev.regmirror.core.testing.TestImages;
import java.io.RandomAccessFile;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code POST /admin/verify} against a real server whose docker.io is a real registry, an image
 * pulled through regmirror with skopeo, then damaged on disk: the corrupt layer is named in the
 * report, moved to quarantine, counted in {@code /metrics}, and the next pull fetches it again from
 * the upstream with the right digest; a deleted layer is reported missing; a corrupt hosted blob is
 * quarantined too, reported as hosted, and served again once pushed again; one verify at a time.
 */
class VerifyIT {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path work;

    private static RegistryProcess upstream;
    private static Skopeo skopeo;
    /** library/app:1.0, three layers of about 300 KB. */
    private static BuiltImage app;

    @BeforeAll
    static void pushImage() throws Exception {
        upstream = RegistryProcess.start();
        skopeo = new Skopeo();
        app = TestImages.singleArch(work.resolve("app"), "1.0", 3, 300_000, 61);
        skopeo.copy(app.source(), "docker://" + upstream.hostPort() + "/library/app:1.0");
    }

    @AfterAll
    static void stop() throws Exception {
        Closing.all(skopeo, upstream);
    }

    @Test
    void aFlippedByteIsQuarantinedReportedCountedAndFetchedAgainFromTheUpstream() throws Exception {
        Path cache = work.resolve("cache-rot");
        try (MirrorFixture mirror = MirrorFixture.start(upstream.url(), cache, Map.of("regmirror.cache.verify-rate", "1G"))) {
            skopeo.copyToDir("docker://" + mirror.hostPort() + "/app:1.0", work.resolve("pulled-1"));
            Digest rotten = app.manifest().layers().get(1).digest();
            Digest deleted = app.manifest().layers().get(2).digest();
            flipByte(blobFile(cache, rotten), app.manifest().layers().get(1).size() / 2);
            Files.delete(blobFile(cache, deleted));

            HttpResponse<byte[]> started = post(mirror);
            assertEquals(202, started.statusCode(), new String(started.body()));
            JsonNode job = JSON.readTree(started.body());
            assertEquals("verify", job.get("type").asText());
            assertEquals("/admin/jobs/" + job.get("id").asText(), started.headers().firstValue("Location").orElseThrow());
            JsonNode done = poll(mirror, job.get("id").asText(), state -> state.get("finished").isTextual());

            assertEquals("succeeded", done.get("state").asText(), done.toString());
            assertEquals(5, done.get("blobsTotal").asInt(), "config, three layers, manifest: " + done);
            assertEquals(5, done.get("blobsDone").asInt(), done.toString());
            assertEquals(1, done.get("corrupt").asInt(), done.toString());
            assertEquals(1, done.get("manifestsDone").asInt(), done.toString());
            JsonNode report = done.get("report");
            assertTrue(report.get("damaged").asBoolean(), report.toString());
            assertEquals(1, report.get("corrupt").size(), report.toString());
            JsonNode corrupt = report.get("corrupt").get(0);
            assertEquals(rotten.toString(), corrupt.get("digest").asText());
            assertEquals(app.manifest().layers().get(1).size(), corrupt.get("size").asLong());
            assertFalse(corrupt.get("hosted").asBoolean());
            Path quarantined = Path.of(corrupt.get("quarantinedAs").asText());
            assertEquals(cache.resolve("quarantine/sha256").toAbsolutePath().normalize(), quarantined.getParent());
            assertTrue(quarantined.getFileName().toString().startsWith(rotten.hex() + "-"), quarantined.toString());
            assertTrue(Files.isRegularFile(quarantined));
            assertFalse(Files.exists(blobFile(cache, rotten)), "never served again");
            assertEquals(1, report.get("blobsGone").asInt(), "the deleted layer: " + report);
            assertEquals(2, report.get("missingTotal").asInt(), report.toString());
            assertEquals(List.of(
                    Map.of("manifest", app.digest().toString(), "kind", "blob", "digest", rotten.toString(), "hosted", false),
                    Map.of("manifest", app.digest().toString(), "kind", "blob", "digest", deleted.toString(), "hosted", false)),
                    JSON.convertValue(report.get("missing"), List.class));
            assertTrue(metrics(mirror).contains("regmirror_cache_corrupt_blobs_total 1.0"), metrics(mirror));

            upstream.reset();
            HttpResponse<byte[]> blob = mirror.get("/v2/library/app/blobs/" + rotten);
            assertEquals(200, blob.statusCode());
            assertEquals(rotten, Digest.sha256Of(blob.body()), "the right bytes, not the rotten ones");
            assertEquals(List.of("/v2/library/app/blobs/" + rotten), upstream.blobGets().stream()
                    .map(LoggedRequest::path).toList(), "fetched again from the upstream");
            upstream.reset();
            skopeo.copyToDir("docker://" + mirror.hostPort() + "/app:1.0", work.resolve("pulled-2"));
            assertEquals(List.of("/v2/library/app/blobs/" + deleted), upstream.blobGets().stream()
                    .map(LoggedRequest::path).toList(), "only the deleted layer: the refetched one is cached again");

            JsonNode again = poll(mirror, JSON.readTree(post(mirror).body()).get("id").asText(),
                    state -> state.get("finished").isTextual());
            assertEquals("succeeded", again.get("state").asText(), again.toString());
            assertFalse(again.get("report").get("damaged").asBoolean(), again.toString());
            assertEquals(0, again.get("report").get("missingTotal").asInt(), again.toString());
            long all = app.manifest().config().size() + app.top().size();
            for (var layer : app.manifest().layers()) {
                all += layer.size();
            }
            assertEquals(all, again.get("bytesDone").asLong(), again.toString());
            assertEquals(all, again.get("bytesTotal").asLong(), again.toString());

            JsonNode jobs = JSON.readTree(mirror.http().send(HttpRequest.newBuilder(mirror.adminUri("/admin/jobs")).GET()
                    .build(), HttpResponse.BodyHandlers.ofByteArray()).body());
            assertEquals(List.of(again.get("id").asText(), job.get("id").asText()),
                    List.of(jobs.get("jobs").get(0).get("id").asText(), jobs.get("jobs").get(1).get("id").asText()));
        }
    }

    @Test
    void aSecondRequestWhileOneRunsAnswersTheRunningOneAndItReadsAtTheRate() throws Exception {
        Path cache = work.resolve("cache-slow");
        try (MirrorFixture mirror = MirrorFixture.start(upstream.url(), cache, Map.of("regmirror.cache.verify-rate", "100K"))) {
            skopeo.copyToDir("docker://" + mirror.hostPort() + "/app:1.0", work.resolve("pulled-slow"));

            Instant start = Instant.now();
            HttpResponse<byte[]> first = post(mirror);
            assertEquals(202, first.statusCode(), new String(first.body()));
            String id = JSON.readTree(first.body()).get("id").asText();
            HttpResponse<byte[]> second = post(mirror);
            assertEquals(200, second.statusCode(), new String(second.body()));
            assertEquals(id, JSON.readTree(second.body()).get("id").asText());
            assertEquals("/admin/jobs/" + id, second.headers().firstValue("Location").orElseThrow());

            JsonNode moving = poll(mirror, id, state -> state.get("bytesDone").asLong() >= 200_000);
            Duration took = Duration.between(start, Instant.now());
            assertEquals("running", moving.get("state").asText(), moving.toString());
            assertEquals(102_400, moving.get("bytesPerSecond").asLong());
            assertTrue(took.toMillis() >= 1500, "200 KB at 100 KiB/s takes about 2 s, took " + took);
            HttpResponse<byte[]> get = mirror.http().send(HttpRequest.newBuilder(mirror.adminUri("/admin/verify"))
                    .GET().build(), HttpResponse.BodyHandlers.ofByteArray());
            assertEquals(405, get.statusCode());
            // Closing the server stops the verify at once.
        }
    }

    @Test
    void aCorruptHostedBlobIsQuarantinedReportedAsHostedAndComesBackWhenPushedAgain() throws Exception {
        Path cache = work.resolve("cache-hosted");
        Path htpasswd = Files.writeString(work.resolve("htpasswd"),
                TestCredentials.htpasswdLine("alice", "alice-pw") + "\n");
        Map<String, Object> settings = new HashMap<>();
        settings.put("regmirror.cache.verify-rate", "1G");
        settings.put("regmirror.auth.htpasswd", htpasswd.toString());
        settings.put("regmirror.hosted.namespaces", List.of("lan"));
        settings.put("regmirror.auth.rules", List.of(
                Map.of("images", List.of("local/lan/**"), "actions", List.of("push"), "allow", List.of("alice")),
                Map.of("images", List.of("**"), "allow", List.of("anonymous"))));
        try (MirrorFixture mirror = MirrorFixture.start(upstream.url(), cache, settings)) {
            String hosted = "docker://" + mirror.hostPort() + "/lan/app:1.0";
            skopeo.copy(app.source(), hosted, "--dest-creds", "alice:alice-pw");
            Digest rotten = app.manifest().layers().get(0).digest();
            flipByte(blobFile(cache, rotten), 100);

            JsonNode done = poll(mirror, JSON.readTree(post(mirror).body()).get("id").asText(),
                    state -> state.get("finished").isTextual());

            JsonNode report = done.get("report");
            assertTrue(report.get("damaged").asBoolean(), report.toString());
            JsonNode corrupt = report.get("corrupt").get(0);
            assertEquals(rotten.toString(), corrupt.get("digest").asText(), report.toString());
            assertTrue(corrupt.get("hosted").asBoolean(), report.toString());
            assertEquals("hosted content: no upstream has it; push it again", corrupt.get("repair").asText());
            assertEquals(1, report.get("hostedMissingTotal").asInt(), report.toString());
            HttpResponse<byte[]> gone = mirror.get("/v2/lan/app/blobs/" + rotten);
            assertEquals(404, gone.statusCode(), "never served again");
            assertTrue(new String(gone.body(), StandardCharsets.UTF_8).contains("BLOB_UNKNOWN"));

            skopeo.copy(app.source(), hosted, "--dest-creds", "alice:alice-pw");
            HttpResponse<byte[]> back = mirror.get("/v2/lan/app/blobs/" + rotten);
            assertEquals(200, back.statusCode());
            assertEquals(rotten, Digest.sha256Of(back.body()));
            JsonNode again = poll(mirror, JSON.readTree(post(mirror).body()).get("id").asText(),
                    state -> state.get("finished").isTextual());
            assertFalse(again.get("report").get("damaged").asBoolean(), again.toString());
        }
    }

    private static void flipByte(Path file, long at) throws Exception {
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.seek(at);
            int b = raf.read();
            raf.seek(at);
            raf.write(b ^ 0x40);
        }
    }

    private static HttpResponse<byte[]> post(MirrorFixture mirror) throws Exception {
        return mirror.http().send(HttpRequest.newBuilder(mirror.adminUri("/admin/verify"))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    private static String metrics(MirrorFixture mirror) throws Exception {
        return new String(mirror.get("/metrics").body(), StandardCharsets.UTF_8);
    }

    /** Polls the job until {@code until} holds (the API offers no push). */
    private static JsonNode poll(MirrorFixture mirror, String id, Predicate<JsonNode> until) throws Exception {
        URI job = mirror.adminUri("/admin/jobs/" + id);
        Instant deadline = Instant.now().plus(Duration.ofSeconds(60));
        while (true) {
            HttpResponse<byte[]> response = mirror.http().send(HttpRequest.newBuilder(job).GET().build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            assertEquals(200, response.statusCode(), new String(response.body()));
            JsonNode state = JSON.readTree(response.body());
            if (until.test(state)) {
                return state;
            }
            if (Instant.now().isAfter(deadline)) {
                throw new AssertionError("job did not get there in 60 s: " + state);
            }
            Thread.sleep(20);
        }
    }

    private static Path blobFile(Path cache, Digest digest) {
        return new CacheLayout(cache).blob(digest);
    }
}
