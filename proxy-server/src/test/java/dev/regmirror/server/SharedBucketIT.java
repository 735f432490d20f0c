package dev.regmirror.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.regmirror.core.manifest.MediaTypes;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.testing.BuiltImage;
import dev.regmirror.core.testing.Closing;
import dev.regmirror.core.testing.RegistryProcess;
import dev.regmirror.core.testing.S3ProxyProcess;
import dev.regmirror.core.testing.Skopeo;
import dev.regmirror.core.testing.TestImages;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two nodes on one bucket (a real S3Proxy) in front of a real {@code docker-registry}: what one node
 * stores shows in the other's usage, and what one node purges the other stops serving from memory
 * within seconds (it asks the upstream again), through the change log they share in the bucket.
 */
class SharedBucketIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration WITHIN = Duration.ofSeconds(15);

    @TempDir
    static Path work;

    private static RegistryProcess upstream;
    private static S3ProxyProcess s3;
    private static Skopeo skopeo;
    private static BuiltImage image;

    @BeforeAll
    static void start() throws Exception {
        upstream = RegistryProcess.start();
        s3 = S3ProxyProcess.start();
        s3.createBucket("shared");
        skopeo = new Skopeo();
        image = TestImages.singleArch(work.resolve("image"), "1.0", 2, 1_000_000, 43);
        skopeo.copy(image.source(), "docker://" + upstream.hostPort() + "/library/app:1.0");
    }

    @AfterAll
    static void stop() throws Exception {
        Closing.all(skopeo, s3, upstream);
    }

    private static Map<String, Object> onBucket() {
        return s3.storageSettings("shared", "");
    }

    @Test
    void whatOneNodeStoresAndPurgesTheOtherSeesWithinSeconds() throws Exception {
        try (MirrorFixture a = MirrorFixture.start(upstream.url(), work.resolve("node-a"), onBucket());
             MirrorFixture b = MirrorFixture.start(upstream.url(), work.resolve("node-b"), onBucket())) {
            skopeo.copyToDir("docker://" + a.hostPort() + "/app:1.0", work.resolve("pulled-a"));
            a.awaitFillsCommitted();
            long stored = usage(a).get("totalBytes").asLong();
            assertTrue(stored > 2_000_000, "a holds the image: " + usage(a));
            await("b counts the blobs a stored", () -> usage(b).get("totalBytes").asLong() == stored);
            await("b lists the repository a cached", () -> catalog(b).contains("library/app"));

            // b serves the image from the bucket, and from then on holds its tag and manifest in memory.
            upstream.reset();
            skopeo.copyToDir("docker://" + b.hostPort() + "/app:1.0", work.resolve("pulled-b"));
            assertEquals(0, upstream.blobGets().size(), "b pulled from the bucket: " + upstream.requests());

            HttpResponse<byte[]> purged = a.http().send(HttpRequest.newBuilder(a.adminUri("/admin/cache?image=app:1.0"))
                    .DELETE().build(), HttpResponse.BodyHandlers.ofByteArray());
            assertEquals(200, purged.statusCode(), new String(purged.body()));
            await("b drops the repository a purged", () -> !catalog(b).contains("library/app"));
            await("b no longer counts the blobs a purged", () -> usage(b).get("totalBytes").asLong() == 0);

            upstream.reset();
            HttpResponse<byte[]> manifest = b.get("/v2/library/app/manifests/1.0", "Accept",
                    MediaTypes.ACCEPT_ALL_HEADER);
            assertEquals(200, manifest.statusCode());
            assertEquals(image.digest().toString(), manifest.headers().firstValue("Docker-Content-Digest").orElseThrow());
            assertEquals(1, upstream.count("HEAD", "/v2/library/app/manifests/1\\.0"),
                    "b asks the upstream for the purged tag instead of answering from memory: " + upstream.requests());
            assertEquals(1, upstream.count("GET", "/v2/library/app/manifests/" + image.digest()),
                    "and fetches the purged manifest again: " + upstream.requests());
            Digest layer = image.manifest().layers().get(0).digest();
            assertEquals(200, b.get("/v2/library/app/blobs/" + layer).statusCode());
            assertEquals(1, upstream.count("GET", "/v2/library/app/blobs/" + layer),
                    "and fetches the purged layer again: " + upstream.requests());
        }
    }

    private static JsonNode usage(MirrorFixture node) throws Exception {
        HttpResponse<byte[]> answer = node.http().send(HttpRequest.newBuilder(node.adminUri("/admin/usage")).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(200, answer.statusCode(), new String(answer.body()));
        return JSON.readTree(answer.body());
    }

    private static String catalog(MirrorFixture node) throws Exception {
        HttpResponse<byte[]> answer = node.get("/v2/_catalog");
        assertEquals(200, answer.statusCode(), new String(answer.body()));
        return new String(answer.body());
    }

    private static void await(String what, Callable<Boolean> condition) throws Exception {
        long deadline = System.nanoTime() + WITHIN.toNanos();
        while (!condition.call()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + WITHIN.toSeconds() + " s: " + what);
            }
            Thread.sleep(200);
        }
    }
}
