package dev.regmirror.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.regmirror.core.manifest.Descriptor;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.testing.BuiltImage;
import dev.regmirror.core.testing.Closing;
import dev.regmirror.core.testing.RegistryProcess;
import dev.regmirror.core.testing.Skopeo;
import dev.regmirror.core.testing.TestImages;
import dev.regmirror.core.testing.TimedRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An upstream limited to 2 connections, end to end: a real distribution registry holding an image of
 * 50 layers, 50 concurrent cold pulls of its 50 blobs through regmirror, and the registry's own
 * application log, which times every request it handles, showing how many it handled at once. The
 * same pulls without the limit show more at once there, so the count can see what the limit prevents.
 */
class UpstreamLimitsIT {

    private static final int LAYERS = 50;

    @TempDir
    static Path work;

    private static RegistryProcess upstream;
    private static Skopeo skopeo;
    private static BuiltImage image;

    @BeforeAll
    static void pushImage() {
        upstream = RegistryProcess.start();
        skopeo = new Skopeo();
        image = TestImages.singleArch(work.resolve("image"), "1.0", LAYERS, 256 * 1024, 21);
        skopeo.copy(image.source(), "docker://" + upstream.hostPort() + "/library/many:1.0");
    }

    @AfterAll
    static void stop() throws Exception {
        Closing.all(skopeo, upstream);
    }

    @BeforeEach
    void forgetEarlierRequests() {
        upstream.reset();
    }

    @Test
    void fiftyConcurrentColdPullsThroughTwoConnectionsAllSucceedAndTheUpstreamNeverHandlesMoreThanTwoAtOnce()
            throws Exception {
        try (MirrorFixture mirror = MirrorFixture.start(upstream.url(), work.resolve("limited"), Map.of(
                "regmirror.upstreams.dockerhub.max-connections", 2,
                // Long enough that no request gives up waiting on a slow machine: 50 blobs through 2 connections.
                "regmirror.upstream-defaults.read-timeout", "60s"))) {
            pullEveryLayerAtOnce(mirror);

            // A real client pulls the whole image through the limited mirror: manifest and config are cold.
            Path pulled = work.resolve("pulled");
            skopeo.copyToDir("docker://" + mirror.hostPort() + "/library/many:1.0", pulled);
            assertEquals(image.digest(), Digest.sha256Of(Files.readAllBytes(pulled.resolve("manifest.json"))));

            List<TimedRequest> handled = upstream.timedRequests();
            assertEquals(LAYERS, handled.stream().filter(r -> r.method().equals("GET") && r.uri().contains("/blobs/")
                    && image.layers().stream().anyMatch(l -> r.uri().endsWith(l.digest().toString()))).count(),
                    "each layer fetched once");
            int atOnce = TimedRequest.maxInFlight(handled);
            assertTrue(atOnce <= 2, "the upstream handled " + atOnce + " requests at once: " + handled);
            assertEquals(2, atOnce, "both connections were used, so the limit was what held the rest back");

            String scrape = new String(mirror.get("/metrics").body(), StandardCharsets.UTF_8);
            assertTrue(scrape.contains("regmirror_upstream_waiting{upstream=\"docker.io\"} 0.0"), scrape);
            assertTrue(scrape.contains("regmirror_upstream_wait_timeouts_total{limit=\"max-connections\","
                    + "upstream=\"docker.io\"} 0.0"), scrape);
        }
    }

    /** Shows that the count above can fail: without a limit, the same cold pulls overlap at the upstream. */
    @Test
    void withoutALimitTheSamePullsOverlapFurtherAtTheUpstream() throws Exception {
        try (MirrorFixture mirror = MirrorFixture.start(upstream.url(), work.resolve("unlimited"), Map.of(
                "regmirror.upstream-defaults.read-timeout", "60s"))) {
            pullEveryLayerAtOnce(mirror);
            List<TimedRequest> handled = upstream.timedRequests();
            int atOnce = TimedRequest.maxInFlight(handled);
            assertTrue(atOnce > 2, "the upstream handled at most " + atOnce + " requests at once: " + handled);
            String scrape = new String(mirror.get("/metrics").body(), StandardCharsets.UTF_8);
            assertTrue(!scrape.contains("regmirror_upstream_waiting"), "no limit, no queue: " + scrape);
        }
    }

    /** GETs every layer through the mirror, all at once; each answer is 200 with the layer's exact bytes. */
    private static void pullEveryLayerAtOnce(MirrorFixture mirror) throws Exception {
        List<Descriptor> layers = image.layers();
        assertEquals(LAYERS, layers.size());
        List<CompletableFuture<HttpResponse<byte[]>>> pulls = new ArrayList<>();
        for (Descriptor layer : layers) {
            pulls.add(mirror.http().sendAsync(mirror.request("/v2/library/many/blobs/" + layer.digest())
                    .timeout(java.time.Duration.ofSeconds(120)).build(), HttpResponse.BodyHandlers.ofByteArray()));
        }
        for (int i = 0; i < layers.size(); i++) {
            HttpResponse<byte[]> response = pulls.get(i).get(180, TimeUnit.SECONDS);
            assertEquals(200, response.statusCode(), () -> new String(response.body(), StandardCharsets.UTF_8));
            assertEquals(layers.get(i).digest(), Digest.sha256Of(response.body()));
        }
    }
}
