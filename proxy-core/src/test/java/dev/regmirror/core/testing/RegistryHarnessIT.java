package dev.regmirror.core.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.regmirror.core.manifest.Descriptor;
import dev.regmirror.core.manifest.MediaTypes;
import dev.regmirror.core.reference.Digest;
import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Checks the end-to-end harness itself: generated images survive a push to and a pull from a real registry. */
class RegistryHarnessIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String UPLOAD_PUT = "/v2/%s/blobs/uploads/[^/]+";

    private static RegistryProcess registry;
    private static Skopeo skopeo;

    @TempDir
    Path tmp;

    @BeforeAll
    static void start() {
        registry = RegistryProcess.start();
        skopeo = new Skopeo();
    }

    @AfterAll
    static void stop() throws Exception {
        Closing.all(skopeo, registry);
    }

    @BeforeEach
    void forgetEarlierRequests() {
        registry.reset();
    }

    @Test
    void theApplicationLogTimesEveryRequestTheAccessLogCounts() {
        BuiltImage image = TestImages.singleArch(tmp.resolve("timed"), "v1", 2, 64 * 1024, 3);
        skopeo.copy(image.source(), docker("library/timed:1"));
        skopeo.copyToDir(docker("library/timed:1"), tmp.resolve("pulled"));

        List<String> logged = registry.requests().stream()
                .map(r -> r.method() + " " + r.path() + (r.query().isEmpty() ? "" : "?" + r.query())).sorted().toList();
        List<TimedRequest> timed = registry.timedRequests();
        assertEquals(logged, timed.stream().map(r -> r.method() + " " + r.uri()).sorted().toList());
        assertTrue(timed.stream().allMatch(r -> r.duration().toNanos() > 0 && r.start().isBefore(r.end())),
                timed::toString);
    }

    @Test
    void ociImageKeepsItsDigestsThroughPushAndPull() throws IOException {
        BuiltImage image = TestImages.singleArch(tmp.resolve("oci"), "v1", 3, 256 * 1024, 1);
        String ref = docker("library/app:1");

        skopeo.copy(image.source(), ref);

        assertEquals(image.digest(), skopeo.inspectDigest(ref));
        assertEquals(MediaTypes.OCI_MANIFEST, json(skopeo.inspectRaw(ref)).path("mediaType").asText());
        assertEquals(4, registry.count("PUT", UPLOAD_PUT.formatted("library/app")), registry.requests()::toString);
        assertEquals(1, registry.count("PUT", "/v2/library/app/manifests/1"));

        registry.reset();
        Path pulled = tmp.resolve("pulled");
        skopeo.copyToDir(ref, pulled);

        assertEquals(digests(image.blobs()), blobGetDigests(), "one GET per layer and config");
        assertTrue(registry.blobGets().stream().allMatch(r -> r.status() == 200));
        BuiltManifest manifest = image.manifest();
        for (int i = 0; i < manifest.layers().size(); i++) {
            Path layer = pulled.resolve(manifest.layers().get(i).digest().hex());
            assertEquals(manifest.layers().get(i).digest(), Digest.sha256Of(Files.readAllBytes(layer)));
            try (InputStream tar = new GZIPInputStream(Files.newInputStream(layer))) {
                assertEquals(manifest.diffIds().get(i), Digest.sha256Of(tar.readAllBytes()), "diff_id of layer " + i);
            }
        }
    }

    @Test
    void ociIndexKeepsItsDigestsAndSharesTheBaseLayer() throws IOException {
        BuiltImage index = TestImages.multiArch(tmp.resolve("oci"), "v1", List.of("linux/amd64", "linux/arm64/v8"),
                2, 64 * 1024, 2);
        String ref = docker("library/multi:1");

        skopeo.copy(index.source(), ref, "--all");

        assertEquals(index.digest(), skopeo.inspectDigest(ref));
        assertEquals(MediaTypes.OCI_INDEX, json(skopeo.inspectRaw(ref)).path("mediaType").asText());
        for (BuiltManifest manifest : index.manifests()) {
            assertEquals(manifest.digest(), skopeo.inspectDigest(docker("library/multi@" + manifest.digest())));
        }
        assertEquals(3, index.layers().size(), "two platforms of two layers with one shared");
        assertEquals(5, registry.count("PUT", UPLOAD_PUT.formatted("library/multi")), registry.requests()::toString);

        registry.reset();
        Path pulled = tmp.resolve("pulled");
        skopeo.copyToDir(ref, pulled, "--all");

        assertEquals(digests(index.blobs()), blobGetDigests());
        for (Descriptor blob : index.blobs()) {
            assertEquals(blob.digest(), Digest.sha256Of(Files.readAllBytes(pulled.resolve(blob.digest().hex()))));
        }
    }

    @Test
    void dockerSchema2ImageAndListKeepTheirDigests() {
        BuiltImage image = TestImages.singleArch(tmp.resolve("images"), "v1", 2, 32 * 1024, 3,
                ImageFormat.DOCKER_V2S2);
        BuiltImage list = TestImages.multiArch(tmp.resolve("images"), "v2", List.of("linux/amd64", "linux/arm64"),
                2, 32 * 1024, 3, ImageFormat.DOCKER_V2S2);

        skopeo.copy(image.source(), docker("library/docker:1"));
        skopeo.copy(list.source(), docker("library/docker:2"), "--all");

        assertEquals(image.digest(), skopeo.inspectDigest(docker("library/docker:1")));
        assertEquals(MediaTypes.DOCKER_MANIFEST,
                json(skopeo.inspectRaw(docker("library/docker:1"))).path("mediaType").asText());
        assertEquals(list.digest(), skopeo.inspectDigest(docker("library/docker:2")));
        assertEquals(MediaTypes.DOCKER_MANIFEST_LIST,
                json(skopeo.inspectRaw(docker("library/docker:2"))).path("mediaType").asText());
    }

    @Test
    void formatV2s2ConvertsAnOciManifestButKeepsItsBlobs() {
        BuiltImage image = TestImages.singleArch(tmp.resolve("oci"), "v1", 2, 16 * 1024, 4);

        skopeo.copy(image.source(), docker("library/converted:1"), "--format", "v2s2");

        JsonNode manifest = json(skopeo.inspectRaw(docker("library/converted:1")));
        assertEquals(MediaTypes.DOCKER_MANIFEST, manifest.path("mediaType").asText());
        assertEquals(image.manifest().config().digest().toString(), manifest.path("config").path("digest").asText());
        assertEquals(image.manifest().layerDigests().stream().map(Digest::toString).toList(),
                manifest.path("layers").findValuesAsText("digest"));
        assertNotEquals(image.digest(), skopeo.inspectDigest(docker("library/converted:1")));
    }

    @Test
    void countsEveryRequestAnsweredBeforeTheCall() throws Exception {
        BuiltImage image = TestImages.singleArch(tmp.resolve("oci"), "v1", 1, 1024, 5);
        skopeo.copy(image.source(), docker("library/count:1"));
        registry.reset();
        Digest layer = image.manifest().layerDigests().get(0);
        HttpClient http = HttpClient.newHttpClient();

        for (int i = 0; i < 20; i++) {
            HttpResponse<byte[]> response = http.send(HttpRequest.newBuilder(
                    registry.url().resolve("/v2/library/count/blobs/" + layer)).build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            assertEquals(200, response.statusCode());
            assertEquals(i + 1, registry.blobGets().size(), "GETs counted after request " + (i + 1));
        }
        assertEquals(20, registry.count("GET", "/v2/library/count/blobs/" + layer));
        assertEquals(0, registry.count("GET", "/v2/"), "marker requests are not counted");
    }

    @Test
    void proxyModeServesTheUpstreamsImage() {
        BuiltImage image = TestImages.singleArch(tmp.resolve("oci"), "v1", 2, 16 * 1024, 6);
        skopeo.copy(image.source(), docker("library/proxied:1"));
        try (RegistryProcess proxy = RegistryProcess.startProxyOf(registry.url())) {
            registry.reset();
            String ref = "docker://" + proxy.hostPort() + "/library/proxied:1";

            skopeo.copyToDir(ref, tmp.resolve("pulled"));

            assertEquals(image.digest(), skopeo.inspectDigest(ref));
            assertEquals(digests(image.blobs()), blobGetDigests(), "every blob came from the upstream");
            assertEquals(digests(image.blobs()), proxy.blobGets().stream().map(r -> digestOf(r.path()))
                    .collect(Collectors.toSet()));
        }
    }

    private static String docker(String repositoryAndTag) {
        return "docker://" + registry.hostPort() + "/" + repositoryAndTag;
    }

    private static Set<Digest> blobGetDigests() {
        return registry.blobGets().stream().map(r -> digestOf(r.path())).collect(Collectors.toSet());
    }

    private static Digest digestOf(String blobPath) {
        return Digest.parse(blobPath.substring(blobPath.lastIndexOf('/') + 1));
    }

    private static Set<Digest> digests(List<Descriptor> blobs) {
        return blobs.stream().map(Descriptor::digest).collect(Collectors.toSet());
    }

    private static JsonNode json(byte[] bytes) {
        try {
            return JSON.readTree(bytes);
        } catch (IOException e) {
            throw new AssertionError("not JSON: " + new String(bytes, java.nio.charset.StandardCharsets.UTF_8), e);
        }
    }
}
