package dev.regmirror.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.regmirror.core.manifest.Descriptor;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.testing.BuiltImage;
import dev.regmirror.core.testing.BuiltManifest;
import dev.regmirror.core.testing.Closing;
import dev.regmirror.core.testing.LoggedRequest;
import dev.regmirror.core.testing.RegistryProcess;
import dev.regmirror.core.testing.Skopeo;
import dev.regmirror.core.testing.TestImages;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code POST /admin/prefetch} and {@code /admin/jobs} against a real server whose docker.io is a
 * real registry: a prefetched image is then pulled with skopeo without one upstream blob request;
 * a platform filter fetches only that platform's blobs; a missing image fails the job with the
 * upstream's error; a prefetch and a client pulling the same blob share one upstream download.
 */
class PrefetchIT {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path work;

    private static RegistryProcess upstream;
    private static Skopeo skopeo;
    private static MirrorFixture mirror;

    @BeforeAll
    static void start() throws Exception {
        upstream = RegistryProcess.start();
        skopeo = new Skopeo();
        mirror = MirrorFixture.start(upstream.url(), work.resolve("cache"), Map.of());
    }

    @AfterAll
    static void stop() throws Exception {
        Closing.all(mirror, skopeo, upstream);
    }

    @Test
    void aPrefetchedSingleArchImageIsPulledWithoutOneUpstreamBlobRequest() throws Exception {
        BuiltImage image = TestImages.singleArch(work.resolve("single"), "1.0", 3, 200_000, 51);
        skopeo.copy(image.source(), "docker://" + upstream.hostPort() + "/library/single:1.0");

        HttpResponse<byte[]> posted = post("{\"image\":\"single:1.0\"}");
        assertEquals(202, posted.statusCode(), new String(posted.body()));
        JsonNode queued = JSON.readTree(posted.body());
        assertEquals("/admin/jobs/" + queued.get("id").asText(), posted.headers().firstValue("Location").orElseThrow());
        assertEquals("docker.io/library/single:1.0", queued.get("image").asText());

        JsonNode job = awaitJob(queued.get("id").asText());
        assertEquals("succeeded", job.get("state").asText(), job.toString());
        long blobBytes = image.blobs().stream().mapToLong(Descriptor::size).sum();
        assertEquals(blobBytes, job.get("bytesTotal").asLong(), job.toString());
        assertEquals(blobBytes, job.get("bytesDone").asLong(), job.toString());
        assertEquals(image.blobs().size(), job.get("blobsDone").asInt(), job.toString());
        assertEquals(image.blobs().size(), job.get("blobsTotal").asInt(), job.toString());
        assertEquals(image.digest().toString(), job.get("digest").asText());
        assertTrue(job.get("error").isNull(), job.toString());

        upstream.reset();
        skopeo.copyToDir("docker://" + mirror.hostPort() + "/single:1.0", work.resolve("pulled-single"));
        assertEquals(List.of(), upstream.blobGets(), "every blob came from the cache");
        assertEquals(image.digest(), skopeo.inspectDigest("docker://" + mirror.hostPort() + "/single:1.0"));
    }

    @Test
    void aPrefetchedIndexHasEveryPlatformInTheCache() throws Exception {
        BuiltImage image = TestImages.multiArch(work.resolve("multi"), "2.0", List.of("linux/amd64", "linux/arm64/v8"),
                2, 100_000, 52);
        skopeo.copy(image.source(), "docker://" + upstream.hostPort() + "/team/multi:2.0", "--all");

        JsonNode job = awaitJob(JSON.readTree(post("{\"image\":\"team/multi:2.0\"}").body()).get("id").asText());
        assertEquals("succeeded", job.get("state").asText(), job.toString());
        long blobBytes = image.blobs().stream().mapToLong(Descriptor::size).sum();
        assertEquals(blobBytes, job.get("bytesTotal").asLong(), "distinct blobs, the shared base once: " + job);
        assertEquals(blobBytes, job.get("bytesDone").asLong(), job.toString());
        assertEquals(image.digest().toString(), job.get("digest").asText());

        upstream.reset();
        skopeo.copyToOci("docker://" + mirror.hostPort() + "/team/multi:2.0", work.resolve("pulled-multi"), "2.0", "--all");
        assertEquals(List.of(), upstream.blobGets(), "every blob of every platform came from the cache");
    }

    @Test
    void aPlatformFilterFetchesOnlyThatPlatformsBlobs() throws Exception {
        BuiltImage image = TestImages.multiArch(work.resolve("filtered"), "3.0", List.of("linux/amd64", "linux/arm64/v8"),
                2, 100_000, 53);
        skopeo.copy(image.source(), "docker://" + upstream.hostPort() + "/team/filtered:3.0", "--all");
        upstream.reset();

        JsonNode job = awaitJob(JSON.readTree(post("{\"image\":\"team/filtered:3.0\",\"platforms\":[\"linux/arm64\"]}")
                .body()).get("id").asText());
        assertEquals("succeeded", job.get("state").asText(), job.toString());
        assertEquals("[\"linux/arm64\"]", job.get("platforms").toString());
        BuiltManifest arm = image.manifestFor("linux/arm64/v8");
        Set<String> expected = new TreeSet<>();
        expected.add(arm.config().digest().toString());
        arm.layers().forEach(layer -> expected.add(layer.digest().toString()));
        Set<String> fetched = upstream.blobGets().stream().map(LoggedRequest::path)
                .map(path -> path.substring(path.lastIndexOf('/') + 1)).collect(Collectors.toCollection(TreeSet::new));
        assertEquals(expected, fetched, "arm64's config and layers, nothing of amd64");
        assertEquals(arm.config().size() + arm.layers().stream().mapToLong(Descriptor::size).sum(),
                job.get("bytesDone").asLong());
        assertEquals(0, upstream.count("GET", "/v2/team/filtered/manifests/" + image.manifestFor("linux/amd64").digest()),
                "the amd64 manifest was not fetched either");
    }

    @Test
    void aMissingTagFailsTheJobWithTheUpstreamsError() throws Exception {
        BuiltImage image = TestImages.singleArch(work.resolve("tagged"), "1.0", 1, 10_000, 54);
        skopeo.copy(image.source(), "docker://" + upstream.hostPort() + "/library/tagged:1.0");

        JsonNode job = awaitJob(JSON.readTree(post("{\"image\":\"tagged:nope\"}").body()).get("id").asText());
        assertEquals("failed", job.get("state").asText(), job.toString());
        JsonNode error = job.get("error");
        assertEquals("MANIFEST_UNKNOWN", error.get("code").asText(), job.toString());
        assertEquals("docker.io", error.get("upstream").asText());
        JsonNode said = upstreamError("/v2/library/tagged/manifests/nope");
        assertTrue(error.get("message").asText().endsWith("upstream answered 404 MANIFEST_UNKNOWN: "
                + said.get("message").asText()), error + " vs the registry's own " + said);
        assertTrue(job.get("finished").isTextual(), job.toString());
    }

    @Test
    void withATagAndADigestTheDigestIsFetchedAndTheTagNeverAskedFor() throws Exception {
        BuiltImage image = TestImages.singleArch(work.resolve("pinned"), "1.0", 1, 10_000, 57);
        skopeo.copy(image.source(), "docker://" + upstream.hostPort() + "/library/pinned:1.0");
        upstream.reset();

        HttpResponse<byte[]> posted = post("{\"image\":\"pinned:nope@" + image.digest() + "\"}");
        assertEquals(202, posted.statusCode(), new String(posted.body()));
        assertEquals("docker.io/library/pinned@" + image.digest(), JSON.readTree(posted.body()).get("image").asText());
        JsonNode job = awaitJob(JSON.readTree(posted.body()).get("id").asText());

        assertEquals("succeeded", job.get("state").asText(), job.toString());
        assertEquals(image.digest().toString(), job.get("digest").asText());
        assertEquals(0, upstream.count("GET", "/v2/library/pinned/manifests/nope")
                + upstream.count("HEAD", "/v2/library/pinned/manifests/nope"), "the tag is only informational");
        assertEquals(1, upstream.count("GET", "/v2/library/pinned/manifests/" + image.digest()));
    }

    @Test
    void aMissingRepositoryFailsTheJobWithTheUpstreamsError() throws Exception {
        JsonNode job = awaitJob(JSON.readTree(post("{\"image\":\"nobody/here:1\"}").body()).get("id").asText());
        assertEquals("failed", job.get("state").asText(), job.toString());
        JsonNode said = upstreamError("/v2/nobody/here/manifests/1");
        JsonNode error = job.get("error");
        assertEquals(said.get("code").asText(), error.get("code").asText(), job.toString());
        assertTrue(error.get("message").asText().endsWith("upstream answered 404 " + said.get("code").asText() + ": "
                + said.get("message").asText()), error + " vs the registry's own " + said);
    }

    @Test
    void aPlatformTheIndexLacksFailsTheJob() throws Exception {
        BuiltImage image = TestImages.multiArch(work.resolve("lacking"), "1.0", List.of("linux/amd64"), 1, 10_000, 55);
        skopeo.copy(image.source(), "docker://" + upstream.hostPort() + "/team/lacking:1.0", "--all");
        JsonNode job = awaitJob(JSON.readTree(post("{\"image\":\"team/lacking:1.0\",\"platforms\":[\"linux/s390x\"]}")
                .body()).get("id").asText());
        assertEquals("failed", job.get("state").asText(), job.toString());
        assertEquals("MANIFEST_UNKNOWN", job.get("error").get("code").asText());
        assertTrue(job.get("error").get("message").asText().contains("has no manifest for linux/s390x (it has linux/amd64)"),
                job.toString());
    }

    @Test
    void badRequestsAreRegistryStyleErrors() throws Exception {
        assertError(post("not json"), 400, "BODY_INVALID");
        assertError(post("[\"alpine\"]"), 400, "BODY_INVALID");
        assertError(post("{}"), 400, "NAME_INVALID");
        assertError(post("{\"image\":\"Upper/Case\"}"), 400, "NAME_INVALID");
        assertError(post("{\"image\":\"alpine:bad!tag\"}"), 400, "TAG_INVALID");
        assertError(post("{\"image\":\"alpine\",\"platforms\":\"linux/amd64\"}"), 400, "BODY_INVALID");
        assertError(post("{\"image\":\"alpine\",\"platforms\":[\"linux\"]}"), 400, "PLATFORM_INVALID");
        assertError(post("{\"image\":\"unknown.example/org/app:1\"}"), 404, "NAME_UNKNOWN");
        HttpResponse<byte[]> get = get("/admin/prefetch");
        assertError(get, 405, "UNSUPPORTED");
        assertEquals("POST", get.headers().firstValue("Allow").orElseThrow());
        assertError(get("/admin/jobs/0000"), 404, "JOB_UNKNOWN");
        HttpResponse<byte[]> delete = mirror.http().send(HttpRequest.newBuilder(mirror.adminUri("/admin/jobs"))
                .DELETE().build(), HttpResponse.BodyHandlers.ofByteArray());
        assertError(delete, 405, "UNSUPPORTED");
        assertEquals("GET, HEAD", delete.headers().firstValue("Allow").orElseThrow());
    }

    @Test
    void jobsListsTheJobsNewestFirst() throws Exception {
        String first = JSON.readTree(post("{\"image\":\"nobody/first:1\"}").body()).get("id").asText();
        String second = JSON.readTree(post("{\"image\":\"nobody/second:1\"}").body()).get("id").asText();
        awaitJob(first);
        awaitJob(second);
        HttpResponse<byte[]> listed = get("/admin/jobs");
        assertEquals(200, listed.statusCode());
        List<String> ids = JSON.readTree(listed.body()).get("jobs").findValuesAsText("id");
        assertTrue(ids.indexOf(second) >= 0 && ids.indexOf(second) < ids.indexOf(first), ids.toString());
    }

    @Test
    void aPrefetchAndAClientPullingTheSameBlobShareOneUpstreamDownload() throws Exception {
        byte[] layer = new byte[3_000_000];
        new Random(56).nextBytes(layer);
        try (PausingRegistry slow = new PausingRegistry(layer, 1_000_000);
             MirrorFixture paused = MirrorFixture.start(slow.uri(), work.resolve("cache-paused"),
                     Map.of("regmirror.upstream-defaults.read-timeout", "30s"))) {
            HttpResponse<byte[]> posted = paused.http().send(HttpRequest.newBuilder(paused.adminUri("/admin/prefetch"))
                    .POST(HttpRequest.BodyPublishers.ofString("{\"image\":\"big:1.0\"}")).build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            assertEquals(202, posted.statusCode(), new String(posted.body()));
            URI jobUri = paused.adminUri(posted.headers().firstValue("Location").orElseThrow());
            JsonNode midway = awaitProgress(paused, jobUri);
            assertEquals("running", midway.get("state").asText(), midway.toString());
            assertTrue(midway.get("bytesDone").asLong() < slow.blobBytes(), midway.toString());

            // The answer's head arrives while the upstream still holds the rest: the client joined the fill.
            HttpResponse<InputStream> client = paused.http().send(
                    paused.request("/v2/big/blobs/" + slow.layerDigest()).build(), HttpResponse.BodyHandlers.ofInputStream());
            assertEquals(200, client.statusCode());
            slow.release();
            try (InputStream body = client.body()) {
                assertArrayEquals(layer, CompletableFuture.supplyAsync(() -> {
                    try {
                        return body.readAllBytes();
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                }).get(30, TimeUnit.SECONDS));
            }
            JsonNode done = awaitJob(paused, jobUri);
            assertEquals("succeeded", done.get("state").asText(), done.toString());
            assertEquals(slow.blobBytes(), done.get("bytesDone").asLong());
            assertEquals(1, slow.gets("/v2/library/big/blobs/" + slow.layerDigest()), "one upstream GET for both");
        }
    }

    /** The first error the registry itself answers a GET of the path with. */
    private static JsonNode upstreamError(String path) throws Exception {
        HttpResponse<byte[]> response = mirror.http().send(HttpRequest.newBuilder(upstream.url().resolve(path)).GET()
                .build(), HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(404, response.statusCode());
        return JSON.readTree(response.body()).get("errors").get(0);
    }

    private static void assertError(HttpResponse<byte[]> response, int status, String code) throws Exception {
        assertEquals(status, response.statusCode(), new String(response.body()));
        assertEquals(code, JSON.readTree(response.body()).get("errors").get(0).get("code").asText(),
                new String(response.body()));
    }

    private static HttpResponse<byte[]> post(String body) throws Exception {
        return mirror.http().send(HttpRequest.newBuilder(mirror.adminUri("/admin/prefetch"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    private static HttpResponse<byte[]> get(String path) throws Exception {
        return mirror.http().send(HttpRequest.newBuilder(mirror.adminUri(path)).GET().build(),
                HttpResponse.BodyHandlers.ofByteArray());
    }

    private static JsonNode awaitJob(String id) throws Exception {
        return awaitJob(mirror, mirror.adminUri("/admin/jobs/" + id));
    }

    /** Polls the job until it has finished (the API offers no push). */
    private static JsonNode awaitJob(MirrorFixture server, URI job) throws Exception {
        return poll(server, job, state -> state.get("finished").isTextual());
    }

    /** Polls the job until some bytes are in the cache. */
    private static JsonNode awaitProgress(MirrorFixture server, URI job) throws Exception {
        return poll(server, job, state -> state.get("bytesDone").asLong() > 0);
    }

    private static JsonNode poll(MirrorFixture server, URI job, java.util.function.Predicate<JsonNode> until)
            throws Exception {
        Instant deadline = Instant.now().plus(Duration.ofSeconds(60));
        while (true) {
            HttpResponse<byte[]> response = server.http().send(HttpRequest.newBuilder(job).GET().build(),
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
}
