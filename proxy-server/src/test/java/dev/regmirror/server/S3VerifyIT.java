package dev.regmirror.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.regmirror.core.config.S3Settings;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.storage.s3.S3Objects;
import dev.regmirror.core.testing.BuiltImage;
import dev.regmirror.core.testing.Closing;
import dev.regmirror.core.testing.LoggedRequest;
import dev.regmirror.core.testing.RegistryProcess;
import dev.regmirror.core.testing.S3ProxyProcess;
import dev.regmirror.core.testing.Skopeo;
import dev.regmirror.core.testing.TestImages;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code POST /admin/verify} with the cache in a bucket of a real S3 server (S3Proxy), a real
 * registry as docker.io and skopeo as the client: a layer overwritten in the bucket with other
 * bytes of the same length is named in the report, moved under {@code quarantine/} in the bucket,
 * counted, no longer served, and the next pull fetches it again from the upstream and caches it.
 */
class S3VerifyIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String BUCKET = "verify";

    @TempDir
    static Path work;

    private static RegistryProcess upstream;
    private static S3ProxyProcess s3;
    private static Skopeo skopeo;
    /** library/app:1.0, three layers of about 300 KB. */
    private static BuiltImage app;

    @BeforeAll
    static void start() throws Exception {
        upstream = RegistryProcess.start();
        s3 = S3ProxyProcess.start();
        s3.createBucket(BUCKET);
        skopeo = new Skopeo();
        app = TestImages.singleArch(work.resolve("app"), "1.0", 3, 300_000, 63);
        skopeo.copy(app.source(), "docker://" + upstream.hostPort() + "/library/app:1.0");
    }

    @AfterAll
    static void stop() throws Exception {
        Closing.all(skopeo, s3, upstream);
    }

    private static Map<String, Object> onS3() {
        Map<String, Object> settings = s3.storageSettings(BUCKET, "mirror/");
        settings.put("regmirror.cache.verify-rate", "1G");
        return settings;
    }

    /** The bucket as another client of the store sees it (keys below the prefix). */
    private static S3Objects bucket() {
        return S3Objects.open(s3.s3Settings(BUCKET, "mirror/", S3Settings.MIN_PART_SIZE));
    }

    private static String blobKey(Digest digest) {
        return "blobs/sha256/" + digest.hex().substring(0, 2) + "/" + digest.hex();
    }

    @Test
    void aLayerOverwrittenInTheBucketIsQuarantinedReportedAndFetchedAgainFromTheUpstream() throws Exception {
        try (MirrorFixture mirror = MirrorFixture.start(upstream.url(), work.resolve("node"), onS3());
             S3Objects objects = bucket()) {
            skopeo.copyToDir("docker://" + mirror.hostPort() + "/app:1.0", work.resolve("pulled-1"));
            mirror.awaitFillsCommitted();
            Digest rotten = app.manifest().layers().get(1).digest();
            byte[] other = new byte[(int) app.manifest().layers().get(1).size()];
            new Random(5).nextBytes(other);
            objects.write(blobKey(rotten), other, "application/octet-stream");

            HttpResponse<byte[]> started = post(mirror);
            assertEquals(202, started.statusCode(), new String(started.body(), StandardCharsets.UTF_8));
            JsonNode done = poll(mirror, JSON.readTree(started.body()).get("id").asText());

            assertEquals("succeeded", done.get("state").asText(), done.toString());
            assertEquals(5, done.get("blobsTotal").asInt(), "config, three layers, manifest: " + done);
            assertEquals(5, done.get("blobsDone").asInt(), done.toString());
            long all = app.manifest().config().size() + app.top().size();
            for (var layer : app.manifest().layers()) {
                all += layer.size();
            }
            assertEquals(all, done.get("bytesDone").asLong(), "every byte read back from the bucket: " + done);
            JsonNode report = done.get("report");
            assertTrue(report.get("damaged").asBoolean(), report.toString());
            assertEquals(1, report.get("corrupt").size(), report.toString());
            JsonNode corrupt = report.get("corrupt").get(0);
            assertEquals(rotten.toString(), corrupt.get("digest").asText());
            assertEquals("its bytes do not hash to its digest", corrupt.get("problem").asText());
            String quarantined = corrupt.get("quarantinedAs").asText();
            assertTrue(quarantined.startsWith("s3://" + BUCKET + "/mirror/quarantine/sha256/" + rotten.hex() + "-"),
                    quarantined);
            String quarantineKey = quarantined.substring(("s3://" + BUCKET + "/mirror/").length());
            assertEquals(Digest.sha256Of(other), Digest.sha256Of(objects.read(quarantineKey).orElseThrow()),
                    "the bytes found, kept aside");
            assertEquals(Optional.empty(), objects.head(blobKey(rotten)), "no longer under its digest");
            assertEquals(List.of(Map.of("manifest", app.digest().toString(), "kind", "blob", "digest",
                    rotten.toString(), "hosted", false)), JSON.convertValue(report.get("missing"), List.class));
            assertTrue(metrics(mirror).contains("regmirror_cache_corrupt_blobs_total 1.0"), metrics(mirror));

            upstream.reset();
            skopeo.copyToDir("docker://" + mirror.hostPort() + "/app:1.0", work.resolve("pulled-2"));
            assertEquals(List.of("/v2/library/app/blobs/" + rotten), upstream.blobGets().stream()
                    .map(LoggedRequest::path).toList(), "only the quarantined layer is fetched again");
            mirror.awaitFillsCommitted();
            assertEquals(rotten, Digest.sha256Of(objects.read(blobKey(rotten)).orElseThrow()),
                    "the right bytes are in the bucket again");
            HttpResponse<byte[]> blob = mirror.get("/v2/library/app/blobs/" + rotten);
            assertEquals(200, blob.statusCode());
            assertEquals(rotten, Digest.sha256Of(blob.body()));
            assertEquals(1, upstream.blobGets().size(), "served from the bucket: " + upstream.blobGets());

            JsonNode again = poll(mirror, JSON.readTree(post(mirror).body()).get("id").asText());
            assertEquals("succeeded", again.get("state").asText(), again.toString());
            assertFalse(again.get("report").get("damaged").asBoolean(), again.toString());
            assertEquals(0, again.get("report").get("missingTotal").asInt(), again.toString());
            assertNotEquals(0, again.get("bytesDone").asLong(), again.toString());
        }
    }

    private static HttpResponse<byte[]> post(MirrorFixture mirror) throws Exception {
        return mirror.http().send(HttpRequest.newBuilder(mirror.adminUri("/admin/verify"))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    private static String metrics(MirrorFixture mirror) throws Exception {
        return new String(mirror.get("/metrics").body(), StandardCharsets.UTF_8);
    }

    /** Polls the job until it finished (the API offers no push). */
    private static JsonNode poll(MirrorFixture mirror, String id) throws Exception {
        URI job = mirror.adminUri("/admin/jobs/" + id);
        Instant deadline = Instant.now().plus(Duration.ofSeconds(60));
        while (true) {
            HttpResponse<byte[]> response = mirror.http().send(HttpRequest.newBuilder(job).GET().build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            assertEquals(200, response.statusCode(), new String(response.body(), StandardCharsets.UTF_8));
            JsonNode state = JSON.readTree(response.body());
            if (state.get("finished").isTextual()) {
                return state;
            }
            if (Instant.now().isAfter(deadline)) {
                throw new AssertionError("verify did not finish in 60 s: " + state);
            }
            Thread.sleep(50);
        }
    }
}
