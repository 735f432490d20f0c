package dev.regmirror.server;

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
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The referrers of a mirrored image, through a real distribution 2.8 upstream, which has no referrers
 * API: regmirror falls back to the upstream's tag {@code sha256-<hex>} of the tag schema, filters by
 * {@code artifactType} itself, answers from its cache within the tag window, and serves the last list
 * stale when the upstream is gone.
 */
class MirroredReferrersIT {

    private static final String SBOM = "application/vnd.example.sbom.v1+json";
    private static final String SIGNATURE = "application/vnd.example.signature.v1+json";
    private static final String EMPTY_CONFIG_TYPE = "application/vnd.oci.empty.v1+json";
    private static final byte[] EMPTY_CONFIG = "{}".getBytes(StandardCharsets.UTF_8);
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final String REFERRERS_OF_APP = "/v2/library/app/referrers/.*";
    private static final String SCHEMA_TAGS_OF_APP = "/v2/library/app/manifests/sha256-.*";

    @TempDir
    Path work;

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    /** The image, pushed with skopeo, and two artifacts referring to it listed under the tag schema's tag. */
    private record Pushed(BuiltImage image, Digest sbom, Digest signature) {
    }

    private Pushed push(RegistryProcess upstream, Skopeo skopeo) throws Exception {
        BuiltImage image = TestImages.singleArch(work.resolve("img"), "1", 1, 10_000, 41);
        skopeo.copy(image.source(), "docker://" + upstream.hostPort() + "/library/app:1");
        String base = upstream.url() + "/v2/library/app/";
        Digest config = Digest.sha256Of(EMPTY_CONFIG);
        uploadBlob(base, config, EMPTY_CONFIG);
        byte[] imageManifest = get(URI.create(base + "manifests/" + image.digest()));
        byte[] sbom = artifact(SBOM, image.digest(), imageManifest.length, config);
        byte[] signature = artifact(SIGNATURE, image.digest(), imageManifest.length, config);
        Digest sbomDigest = putManifest(base, Digest.sha256Of(sbom).toString(), MediaTypes.OCI_MANIFEST, sbom);
        Digest signatureDigest = putManifest(base, Digest.sha256Of(signature).toString(), MediaTypes.OCI_MANIFEST,
                signature);
        String index = "{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_INDEX + "\",\"manifests\":["
                + descriptor(sbomDigest, sbom.length, SBOM) + "," + descriptor(signatureDigest, signature.length, SIGNATURE)
                + "]}";
        putManifest(base, "sha256-" + image.digest().hex(), MediaTypes.OCI_INDEX, index.getBytes(StandardCharsets.UTF_8));
        return new Pushed(image, sbomDigest, signatureDigest);
    }

    private static byte[] artifact(String artifactType, Digest subject, int subjectSize, Digest config) {
        String empty = "{\"mediaType\":\"" + EMPTY_CONFIG_TYPE + "\",\"digest\":\"" + config + "\",\"size\":2}";
        return ("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",\"artifactType\":\""
                + artifactType + "\",\"config\":" + empty + ",\"layers\":[" + empty + "],\"subject\":{\"mediaType\":\""
                + MediaTypes.OCI_MANIFEST + "\",\"digest\":\"" + subject + "\",\"size\":" + subjectSize + "}}")
                .getBytes(StandardCharsets.UTF_8);
    }

    private static String descriptor(Digest digest, int size, String artifactType) {
        return "{\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",\"digest\":\"" + digest + "\",\"size\":" + size
                + ",\"artifactType\":\"" + artifactType + "\"}";
    }

    private void uploadBlob(String base, Digest digest, byte[] bytes) throws Exception {
        HttpResponse<Void> started = http.send(HttpRequest.newBuilder(URI.create(base + "blobs/uploads/"))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.discarding());
        assertEquals(202, started.statusCode());
        URI location = URI.create(base).resolve(started.headers().firstValue("Location").orElseThrow());
        String separator = location.getQuery() == null ? "?" : "&";
        HttpResponse<String> done = http.send(HttpRequest.newBuilder(URI.create(location + separator + "digest=" + digest))
                .header("Content-Type", "application/octet-stream")
                .PUT(HttpRequest.BodyPublishers.ofByteArray(bytes)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(201, done.statusCode(), done.body());
    }

    private Digest putManifest(String base, String reference, String mediaType, byte[] bytes) throws Exception {
        HttpResponse<String> put = http.send(HttpRequest.newBuilder(URI.create(base + "manifests/" + reference))
                .header("Content-Type", mediaType).PUT(HttpRequest.BodyPublishers.ofByteArray(bytes)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(201, put.statusCode(), put.body());
        return Digest.parse(put.headers().firstValue("Docker-Content-Digest").orElseThrow());
    }

    private byte[] get(URI uri) throws Exception {
        HttpResponse<byte[]> response = http.send(HttpRequest.newBuilder(uri)
                .header("Accept", MediaTypes.OCI_MANIFEST).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(200, response.statusCode());
        return response.body();
    }

    private static List<String> descriptors(HttpResponse<byte[]> answer) throws Exception {
        JsonNode index = MAPPER.readTree(answer.body());
        assertEquals(2, index.get("schemaVersion").asInt());
        assertEquals(MediaTypes.OCI_INDEX, index.get("mediaType").asText());
        List<String> found = new ArrayList<>();
        for (JsonNode descriptor : index.get("manifests")) {
            found.add(descriptor.get("artifactType").asText() + "@" + descriptor.get("digest").asText());
        }
        return found;
    }

    @Test
    void referrersComeFromTheTagSchemaFilteredByArtifactTypeAndCachedWithinTheWindow() throws Exception {
        RegistryProcess upstream = RegistryProcess.start();
        try (Skopeo skopeo = new Skopeo();
             MirrorFixture mirror = MirrorFixture.start(upstream.url(), work.resolve("cache"), Map.of())) {
            Pushed pushed = push(upstream, skopeo);
            String path = "/v2/app/referrers/" + pushed.image().digest();
            upstream.reset();

            HttpResponse<byte[]> all = mirror.get(path);

            assertEquals(200, all.statusCode());
            assertEquals(MediaTypes.OCI_INDEX, all.headers().firstValue("Content-Type").orElse(""));
            assertEquals(List.of(SBOM + "@" + pushed.sbom(), SIGNATURE + "@" + pushed.signature()), descriptors(all));
            assertFalse(all.headers().firstValue("OCI-Filters-Applied").isPresent());
            assertEquals(1, upstream.count("GET", REFERRERS_OF_APP), "the referrers API is tried first");
            assertEquals(1, upstream.count("GET", SCHEMA_TAGS_OF_APP), "then the tag schema's tag");

            HttpResponse<byte[]> again = mirror.get(path);
            HttpResponse<Void> head = mirror.head(path);

            assertEquals(List.of(SBOM + "@" + pushed.sbom(), SIGNATURE + "@" + pushed.signature()), descriptors(again));
            assertEquals(200, head.statusCode());
            assertEquals(String.valueOf(all.body().length), head.headers().firstValue("Content-Length").orElse(""));
            assertEquals(1, upstream.count("GET", REFERRERS_OF_APP), "within the window nothing is asked again");
            assertEquals(1, upstream.count("GET", SCHEMA_TAGS_OF_APP));

            HttpResponse<byte[]> sboms = mirror.get(path + "?artifactType=" + SBOM.replace("+", "%2B"));

            assertEquals(200, sboms.statusCode());
            assertEquals(List.of(SBOM + "@" + pushed.sbom()), descriptors(sboms));
            assertEquals("artifactType", sboms.headers().firstValue("OCI-Filters-Applied").orElse(""));

            HttpResponse<byte[]> none = mirror.get("/v2/app/referrers/" + pushed.sbom());

            assertEquals(200, none.statusCode());
            assertEquals(List.of(), descriptors(none));

            String metrics = new String(mirror.get("/metrics").body(), StandardCharsets.UTF_8);
            assertTrue(metrics.contains("regmirror_referrers_requests_total{result=\"fallback\",upstream=\"docker.io\"} 2.0"),
                    metrics);
            assertTrue(metrics.contains("regmirror_referrers_requests_total{result=\"cached\",upstream=\"docker.io\"} 2.0"),
                    metrics);
            assertTrue(metrics.contains("regmirror_referrers_requests_total{result=\"empty\",upstream=\"docker.io\"} 1.0"),
                    metrics);
        } finally {
            upstream.close();
        }
    }

    @Test
    void aGoneUpstreamsReferrersAreServedStale() throws Exception {
        RegistryProcess upstream = RegistryProcess.start();
        try (Skopeo skopeo = new Skopeo(Duration.ofMinutes(2));
             MirrorFixture mirror = MirrorFixture.start(upstream.url(), work.resolve("cache"),
                     Map.of("regmirror.upstream-defaults.tag-ttl", "0s"))) {
            Pushed pushed = push(upstream, skopeo);
            String path = "/v2/app/referrers/" + pushed.image().digest();
            assertEquals(200, mirror.get(path).statusCode());
            upstream.close();

            HttpResponse<byte[]> stale = mirror.get(path);

            assertEquals(200, stale.statusCode());
            assertEquals(List.of(SBOM + "@" + pushed.sbom(), SIGNATURE + "@" + pushed.signature()), descriptors(stale));
            String warning = stale.headers().firstValue("Warning").orElse("");
            assertTrue(warning.startsWith("299 - \"regmirror: served from cache"), warning);
            String metrics = new String(mirror.get("/metrics").body(), StandardCharsets.UTF_8);
            assertTrue(metrics.contains("regmirror_referrers_requests_total{result=\"stale\",upstream=\"docker.io\"} 1.0"),
                    metrics);

            HttpResponse<byte[]> neverListed = mirror.get("/v2/app/referrers/" + pushed.sbom());
            assertEquals(503, neverListed.statusCode(), "nothing cached to stand in: the upstream's trouble is the answer");
        } finally {
            upstream.close();
        }
    }
}
