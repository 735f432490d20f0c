package dev.regmirror.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.testing.Closing;
import dev.regmirror.core.testing.LoggedRequest;
import dev.regmirror.core.testing.RegistryProcess;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * OCI artifacts that are not container images pass through the mirror as images do, through a real
 * distribution upstream: a Helm chart (its own config and layer media types) and an artifact with
 * {@code artifactType} and the empty config; byte-exact manifests and blobs, cached (the second
 * pull asks the upstream nothing), and prefetched like an image.
 */
class MirroredArtifactIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";

    @TempDir
    static Path work;

    private static RegistryProcess upstream;
    private static MirrorFixture mirror;

    @BeforeAll
    static void start() throws Exception {
        upstream = RegistryProcess.start();
        mirror = MirrorFixture.start(upstream.url(), work.resolve("cache"), Map.of());
    }

    @AfterAll
    static void stop() throws Exception {
        Closing.all(mirror, upstream);
    }

    @Test
    void aHelmChartPassesThroughByteForByteAndIsCached() throws Exception {
        byte[] config = "{\"name\":\"demo\",\"version\":\"0.1.0\",\"apiVersion\":\"v2\"}".getBytes(StandardCharsets.UTF_8);
        byte[] chart = random(40_000, 901);
        byte[] manifest = push("charts/demo", "0.1.0", "application/vnd.cncf.helm.config.v1+json", config,
                "application/vnd.cncf.helm.chart.content.v1.tar+gzip", chart, null);

        upstream.reset();
        assertPulled("charts/demo", "0.1.0", manifest, List.of(config, chart));
        assertTrue(upstream.requests().stream().anyMatch(request -> request.path().contains("/blobs/")),
                "the first pull fetched the blobs");
        upstream.reset();
        assertPulled("charts/demo", Digest.sha256Of(manifest).toString(), manifest, List.of(config, chart));
        assertEquals(List.of(), upstream.requests().stream().map(LoggedRequest::path)
                .filter(path -> path.contains("/blobs/")).toList(), "the second pull is served from the cache");
    }

    @Test
    void anArtifactWithAnArtifactTypeAndTheEmptyConfigIsPrefetchedLikeAnImage() throws Exception {
        byte[] empty = "{}".getBytes(StandardCharsets.UTF_8);
        byte[] wasm = random(25_000, 902);
        byte[] manifest = push("tools/module", "1.0", "application/vnd.oci.empty.v1+json", empty,
                "application/wasm", wasm, "application/vnd.wasm.module.v1+wasm");

        HttpResponse<String> posted = mirror.http().send(HttpRequest.newBuilder(mirror.adminUri("/admin/prefetch"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"image\":\"tools/module:1.0\"}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(202, posted.statusCode(), posted.body());
        JsonNode job = awaitJob(JSON.readTree(posted.body()).path("id").asText());
        assertEquals("succeeded", job.path("state").asText(), job.toString());

        upstream.reset();
        assertPulled("tools/module", "1.0", manifest, List.of(empty, wasm));
        assertEquals(List.of(), upstream.requests().stream().map(LoggedRequest::path)
                .filter(path -> path.contains("/blobs/")).toList(), "prefetched: no blob asked of the upstream");
    }

    /** Pushes the blobs and an OCI manifest naming them to the upstream; the manifest's bytes. */
    private static byte[] push(String name, String tag, String configType, byte[] config, String layerType,
                               byte[] layer, String artifactType) throws Exception {
        AdminIT.upload(upstream.url(), name, config);
        AdminIT.upload(upstream.url(), name, layer);
        String manifest = "{\"schemaVersion\":2,\"mediaType\":\"" + OCI_MANIFEST + "\""
                + (artifactType == null ? "" : ",\"artifactType\":\"" + artifactType + "\"")
                + ",\"config\":{\"mediaType\":\"" + configType + "\",\"digest\":\"" + Digest.sha256Of(config)
                + "\",\"size\":" + config.length + "},\"layers\":[{\"mediaType\":\"" + layerType + "\",\"digest\":\""
                + Digest.sha256Of(layer) + "\",\"size\":" + layer.length
                + ",\"annotations\":{\"org.opencontainers.image.title\":\"payload\"}}]}";
        byte[] bytes = manifest.getBytes(StandardCharsets.UTF_8);
        HttpResponse<String> put = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                upstream.url().resolve("/v2/" + name + "/manifests/" + tag)).header("Content-Type", OCI_MANIFEST)
                .PUT(HttpRequest.BodyPublishers.ofByteArray(bytes)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(201, put.statusCode(), put.body());
        return bytes;
    }

    /** A client's pull through the mirror: the manifest as pushed, then every blob it names. */
    private static void assertPulled(String name, String reference, byte[] manifest, List<byte[]> blobs)
            throws Exception {
        HttpResponse<byte[]> got = mirror.get("/v2/" + name + "/manifests/" + reference, "Accept", OCI_MANIFEST);
        assertEquals(200, got.statusCode(), new String(got.body(), StandardCharsets.UTF_8));
        assertArrayEquals(manifest, got.body());
        assertEquals(OCI_MANIFEST, got.headers().firstValue("Content-Type").orElse(""));
        assertEquals(Digest.sha256Of(manifest).toString(), got.headers().firstValue("Docker-Content-Digest").orElse(""));
        for (byte[] blob : blobs) {
            HttpResponse<byte[]> fetched = mirror.get("/v2/" + name + "/blobs/" + Digest.sha256Of(blob));
            assertEquals(200, fetched.statusCode());
            assertArrayEquals(blob, fetched.body());
        }
    }

    private static JsonNode awaitJob(String id) throws Exception {
        Instant deadline = Instant.now().plus(Duration.ofSeconds(60));
        while (true) {
            JsonNode state = JSON.readTree(mirror.http().send(HttpRequest.newBuilder(
                    mirror.adminUri("/admin/jobs/" + id)).GET().build(), HttpResponse.BodyHandlers.ofString()).body());
            if (state.path("finished").isTextual()) {
                return state;
            }
            if (Instant.now().isAfter(deadline)) {
                throw new AssertionError("the prefetch did not finish in 60 s: " + state);
            }
            Thread.sleep(20);
        }
    }

    private static byte[] random(int size, long seed) {
        byte[] bytes = new byte[size];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }
}
