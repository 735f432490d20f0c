package dev.regmirror.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.regmirror.core.blob.FileBlobStore;
import dev.regmirror.core.hosted.HostedStore;
import dev.regmirror.core.manifest.MediaTypes;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.reference.RepositoryName;
import dev.regmirror.core.testing.Closing;
import dev.regmirror.core.testing.LoggedRequest;
import dev.regmirror.core.testing.RegistryProcess;
import dev.regmirror.core.testing.Skopeo;
import dev.regmirror.core.testing.TestCredentials;
import dev.regmirror.core.testing.TestImages;
import dev.regmirror.core.upstream.Route;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Manifests of hosted repositories through a real regmirror: any OCI artifact pushed by tag or digest
 * and read back byte for byte, what a push is refused for, tags paged, the catalog, deletes (off, and
 * on in a second mirror) and referrers. The blobs manifests name are seeded into the cache directory
 * before the mirror starts ({@link #seed}), as an upload would have left them.
 */
class HostedManifestIT {

    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final String ALICE = "Basic " + Base64.getEncoder().encodeToString(
            "alice:alice-pw".getBytes(StandardCharsets.UTF_8));
    private static final String HELM_CONFIG = "application/vnd.cncf.helm.config.v1+json";
    private static final String HELM_CHART = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";
    private static final String EMPTY = "application/vnd.oci.empty.v1+json";

    @TempDir
    static Path work;

    private static RegistryProcess upstream;
    private static MirrorFixture mirror;
    private static MirrorFixture deleting;
    private static Map<String, Digest> blobs;

    @BeforeAll
    static void start() throws Exception {
        upstream = RegistryProcess.start();
        try (Skopeo skopeo = new Skopeo()) {
            skopeo.copy(TestImages.singleArch(work.resolve("cached"), "1.0", 1, 1000, 601).source(),
                    "docker://" + upstream.hostPort() + "/library/cached:1.0");
        }
        Path htpasswd = Files.writeString(work.resolve("htpasswd"), String.join("\n",
                TestCredentials.htpasswdLine("alice", "alice-pw"), ""));
        Map<String, Object> settings = new HashMap<>();
        settings.put("regmirror.auth.htpasswd", htpasswd.toString());
        settings.put("regmirror.auth.admins", List.of("alice"));
        settings.put("regmirror.hosted.namespaces", List.of("lan"));
        settings.put("regmirror.hosted.max-manifest-size", "64K");
        settings.put("regmirror.auth.rules", List.of(
                Map.of("images", List.of("local/lan/**"), "actions", List.of("push", "delete"), "allow", List.of("alice")),
                Map.of("images", List.of("**"), "allow", List.of("anonymous"))));
        List<String> contents = List.of("{\"architecture\":\"amd64\",\"os\":\"linux\"}", "layer one", "layer two",
                "{}", "{\"name\":\"chart\",\"version\":\"1.0.0\"}", "chart bytes", "signature", "sbom");
        blobs = seed(work.resolve("cache"), List.of("lan/app", "lan/charts"), contents);
        seed(work.resolve("cache-deleting"), List.of("lan/app"), contents);
        mirror = MirrorFixture.start(upstream.url(), work.resolve("cache"), settings);
        Map<String, Object> deletes = new HashMap<>(settings);
        deletes.put("regmirror.hosted.delete.enabled", true);
        deleting = MirrorFixture.start(upstream.url(), work.resolve("cache-deleting"), deletes);
    }

    @AfterAll
    static void stop() throws Exception {
        Closing.all(deleting, mirror, upstream);
    }

    /**
     * Puts blobs into a cache directory and links them into hosted repositories, as uploads would:
     * the one place to switch to the upload API once it exists. Returns each content's digest.
     */
    private static Map<String, Digest> seed(Path cache, List<String> repositories, List<String> contents)
            throws IOException {
        Map<String, Digest> digests = new HashMap<>();
        try (FileBlobStore store = FileBlobStore.open(cache)) {
            HostedStore hosted = HostedStore.open(store.layout(), store.index());
            for (String content : contents) {
                byte[] bytes = content.getBytes(StandardCharsets.UTF_8);
                Digest digest = Digest.sha256Of(bytes);
                store.put(digest, bytes);
                for (String repository : repositories) {
                    hosted.linkBlob(Route.hosted("local", new RepositoryName(repository)), digest);
                }
                digests.put(content, digest);
            }
        }
        return digests;
    }

    private static String descriptor(String mediaType, String content) {
        return "{\"mediaType\":\"" + mediaType + "\",\"digest\":\"" + blobs.get(content) + "\",\"size\":"
                + content.getBytes(StandardCharsets.UTF_8).length + "}";
    }

    private static byte[] image() {
        return ("{\n  \"schemaVersion\": 2,\n  \"mediaType\": \"" + MediaTypes.OCI_MANIFEST + "\",\n  \"config\": "
                + descriptor("application/vnd.oci.image.config.v1+json", "{\"architecture\":\"amd64\",\"os\":\"linux\"}")
                + ",\n  \"layers\": [" + descriptor("application/vnd.oci.image.layer.v1.tar", "layer one") + ", "
                + descriptor("application/vnd.oci.image.layer.v1.tar", "layer two") + "]\n}\n")
                .getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] referrer(String artifactType, String layer, Digest subject, long subjectSize) {
        return ("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",\"artifactType\":\""
                + artifactType + "\",\"config\":" + descriptor(EMPTY, "{}") + ",\"layers\":["
                + descriptor("application/octet-stream", layer) + "],\"subject\":{\"mediaType\":\""
                + MediaTypes.OCI_MANIFEST + "\",\"digest\":\"" + subject + "\",\"size\":" + subjectSize
                + "},\"annotations\":{\"org.example.kind\":\"" + layer + "\"}}").getBytes(StandardCharsets.UTF_8);
    }

    private static HttpResponse<byte[]> put(MirrorFixture to, String path, String contentType, byte[] body)
            throws Exception {
        return to.http().send(to.request(path).header("Authorization", ALICE).header("Content-Type", contentType)
                .PUT(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    private static HttpResponse<byte[]> delete(MirrorFixture to, String path) throws Exception {
        return to.http().send(to.request(path).header("Authorization", ALICE).DELETE().build(),
                HttpResponse.BodyHandlers.ofByteArray());
    }

    private static String errorCode(HttpResponse<byte[]> response) throws IOException {
        return MAPPER.readTree(response.body()).at("/errors/0/code").asText();
    }

    @Test
    void anImagePushedByTagAndByDigestIsReadBackByteForByteWithItsMediaType() throws Exception {
        byte[] body = image();
        Digest digest = Digest.sha256Of(body);

        HttpResponse<byte[]> byTag = put(mirror, "/v2/lan/app/manifests/1.0", MediaTypes.OCI_MANIFEST, body);
        assertEquals(201, byTag.statusCode(), new String(byTag.body(), StandardCharsets.UTF_8));
        assertEquals("/v2/lan/app/manifests/" + digest, byTag.headers().firstValue("Location").orElseThrow());
        assertEquals(digest.toString(), byTag.headers().firstValue("Docker-Content-Digest").orElseThrow());
        assertEquals(201, put(mirror, "/v2/lan/app/manifests/" + digest, MediaTypes.OCI_MANIFEST, body).statusCode());

        for (String reference : List.of("1.0", digest.toString())) {
            HttpResponse<byte[]> got = mirror.get("/v2/lan/app/manifests/" + reference);
            assertEquals(200, got.statusCode());
            assertArrayEquals(body, got.body());
            assertEquals(MediaTypes.OCI_MANIFEST, got.headers().firstValue("Content-Type").orElseThrow());
            assertEquals(digest.toString(), got.headers().firstValue("Docker-Content-Digest").orElseThrow());
        }
        HttpResponse<Void> head = mirror.head("/v2/lan/app/manifests/1.0");
        assertEquals(200, head.statusCode());
        assertEquals(String.valueOf(body.length), head.headers().firstValue("Content-Length").orElseThrow());
        assertEquals(304, mirror.get("/v2/lan/app/manifests/1.0", "If-None-Match", "\"" + digest + "\"").statusCode());
        assertEquals(List.of(), upstream.requests().stream().map(LoggedRequest::path)
                .filter(path -> path.contains("/lan/")).toList(), "hosted names never reach the upstream");
    }

    @Test
    void aHelmChartAndAnArtifactWithTheEmptyConfigArePushedLikeAnyManifest() throws Exception {
        byte[] chart = ("{\"schemaVersion\":2,\"config\":" + descriptor(HELM_CONFIG, "{\"name\":\"chart\",\"version\":\"1.0.0\"}")
                + ",\"layers\":[" + descriptor(HELM_CHART, "chart bytes") + "]}").getBytes(StandardCharsets.UTF_8);
        assertEquals(201, put(mirror, "/v2/lan/charts/manifests/1.0.0", MediaTypes.OCI_MANIFEST, chart).statusCode());
        byte[] artifact = ("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",\"artifactType\":"
                + "\"application/vnd.example.sbom\",\"config\":" + descriptor(EMPTY, "{}") + ",\"layers\":["
                + descriptor("application/spdx+json", "sbom") + "]}").getBytes(StandardCharsets.UTF_8);
        assertEquals(201, put(mirror, "/v2/lan/charts/manifests/sbom", MediaTypes.OCI_MANIFEST, artifact).statusCode());

        assertArrayEquals(chart, mirror.get("/v2/lan/charts/manifests/1.0.0").body());
        assertArrayEquals(artifact, mirror.get("/v2/lan/charts/manifests/sbom").body());
    }

    @Test
    void aPushIsRefusedForAMissingBlobAMismatchedTypeAWrongDigestOrItsSizeAndNothingIsStored() throws Exception {
        String missing = Digest.sha256Of("never uploaded".getBytes(StandardCharsets.UTF_8)).toString();
        byte[] unknownLayer = new String(image(), StandardCharsets.UTF_8).replace(blobs.get("layer two").toString(),
                missing).getBytes(StandardCharsets.UTF_8);
        HttpResponse<byte[]> blobUnknown = put(mirror, "/v2/lan/app/manifests/broken", MediaTypes.OCI_MANIFEST,
                unknownLayer);
        assertEquals(400, blobUnknown.statusCode());
        assertEquals("MANIFEST_BLOB_UNKNOWN", errorCode(blobUnknown));
        assertEquals(missing, MAPPER.readTree(blobUnknown.body()).at("/errors/0/detail/digest").asText());

        HttpResponse<byte[]> mismatch = put(mirror, "/v2/lan/app/manifests/mismatch", MediaTypes.DOCKER_MANIFEST,
                image());
        assertEquals(400, mismatch.statusCode());
        assertEquals("MANIFEST_INVALID", errorCode(mismatch));

        HttpResponse<byte[]> wrongDigest = put(mirror, "/v2/lan/app/manifests/"
                + Digest.sha256Of("other".getBytes(StandardCharsets.UTF_8)), MediaTypes.OCI_MANIFEST, image());
        assertEquals("DIGEST_INVALID", errorCode(wrongDigest));

        byte[] big = new String(image(), StandardCharsets.UTF_8).replace("\"schemaVersion\": 2,",
                "\"schemaVersion\": 2, \"annotations\": {\"pad\": \"" + "x".repeat(70_000) + "\"},")
                .getBytes(StandardCharsets.UTF_8);
        HttpResponse<byte[]> tooLarge = put(mirror, "/v2/lan/app/manifests/big", MediaTypes.OCI_MANIFEST, big);
        assertEquals(413, tooLarge.statusCode());
        assertEquals("MANIFEST_TOO_LARGE", errorCode(tooLarge));

        for (String reference : List.of("broken", "mismatch", "big", Digest.sha256Of(big).toString(),
                Digest.sha256Of(unknownLayer).toString())) {
            assertEquals(404, mirror.get("/v2/lan/app/manifests/" + reference).statusCode(), reference);
        }
    }

    /** As distribution answers: a GET or HEAD of a reference that is no valid tag, hosted or mirrored, is not found. */
    @Test
    void anInvalidReferenceIsManifestUnknown() throws Exception {
        for (String name : List.of("lan/app", "library/cached")) {
            HttpResponse<byte[]> invalid = mirror.get("/v2/" + name + "/manifests/.INVALID");
            assertEquals(404, invalid.statusCode(), name);
            assertEquals("MANIFEST_UNKNOWN", errorCode(invalid), name);
            assertEquals(404, mirror.head("/v2/" + name + "/manifests/.INVALID").statusCode(), name);
        }
        assertEquals(List.of(), upstream.requests().stream().map(LoggedRequest::path)
                .filter(path -> path.contains(".INVALID")).toList(), "never asked upstream");
    }

    @Test
    void tagsArePagedWithALinkAndTheCatalogListsHostedNamesAmongCachedOnes() throws Exception {
        byte[] body = image();
        for (String tag : List.of("p1", "p2", "p3")) {
            assertEquals(201, put(mirror, "/v2/lan/charts/manifests/" + tag, MediaTypes.OCI_MANIFEST, body).statusCode());
        }
        List<String> tags = new ArrayList<>();
        String next = "/v2/lan/charts/tags/list?n=2";
        int pages = 0;
        while (next != null) {
            HttpResponse<byte[]> page = mirror.get(next);
            assertEquals(200, page.statusCode());
            JsonNode json = MAPPER.readTree(page.body());
            assertEquals("lan/charts", json.get("name").asText());
            json.get("tags").forEach(tag -> tags.add(tag.asText()));
            next = page.headers().firstValue("Link").map(link -> link.substring(1, link.indexOf('>'))).orElse(null);
            pages++;
        }
        assertTrue(tags.containsAll(List.of("p1", "p2", "p3")), tags.toString());
        assertEquals(tags.stream().sorted().toList(), tags, "lexical order");
        assertEquals((tags.size() + 1) / 2, pages);
        assertEquals(404, mirror.get("/v2/lan/nothing/tags/list").statusCode());

        assertEquals(200, mirror.get("/v2/library/cached/manifests/1.0",
                "Accept", MediaTypes.ACCEPT_ALL_HEADER).statusCode());
        HttpResponse<byte[]> catalog = mirror.get("/v2/_catalog", "Authorization", ALICE);
        assertEquals(200, catalog.statusCode());
        List<String> names = new ArrayList<>();
        MAPPER.readTree(catalog.body()).get("repositories").forEach(name -> names.add(name.asText()));
        assertTrue(names.containsAll(List.of("docker.io/library/cached", "lan/charts")), names.toString());
        assertEquals(names.stream().sorted().toList(), names);
        HttpResponse<byte[]> first = mirror.get("/v2/_catalog?n=1", "Authorization", ALICE);
        assertEquals("</v2/_catalog?n=1&last=" + names.get(0).replace("/", "%2F") + ">; rel=\"next\"",
                first.headers().firstValue("Link").orElseThrow());
    }

    @Test
    void deletesAreRefusedWhileDisabled() throws Exception {
        byte[] body = image();
        assertEquals(201, put(mirror, "/v2/lan/app/manifests/kept", MediaTypes.OCI_MANIFEST, body).statusCode());
        HttpResponse<byte[]> refused = delete(mirror, "/v2/lan/app/manifests/" + Digest.sha256Of(body));
        assertEquals(405, refused.statusCode());
        assertEquals("UNSUPPORTED", errorCode(refused));
        assertEquals(200, mirror.get("/v2/lan/app/manifests/kept").statusCode());
    }

    @Test
    void deletingAManifestRemovesItAndItsTagsDeletingATagKeepsTheManifest() throws Exception {
        byte[] body = image();
        Digest digest = Digest.sha256Of(body);
        for (String tag : List.of("1.0", "latest", "other")) {
            assertEquals(201, put(deleting, "/v2/lan/app/manifests/" + tag, MediaTypes.OCI_MANIFEST, body).statusCode());
        }

        assertEquals(202, delete(deleting, "/v2/lan/app/manifests/other").statusCode());
        assertEquals(404, deleting.get("/v2/lan/app/manifests/other").statusCode());
        assertEquals(200, deleting.get("/v2/lan/app/manifests/" + digest).statusCode());

        assertEquals(202, delete(deleting, "/v2/lan/app/manifests/" + digest).statusCode());
        for (String reference : List.of("1.0", "latest", digest.toString())) {
            assertEquals(404, deleting.get("/v2/lan/app/manifests/" + reference).statusCode(), reference);
        }
        assertEquals("MANIFEST_UNKNOWN", errorCode(delete(deleting, "/v2/lan/app/manifests/" + digest)));
        assertEquals(405, delete(deleting, "/v2/lan/app/blobs/" + blobs.get("layer one")).statusCode(),
                "blobs need delete.blobs too");
    }

    /**
     * With the defaults, a manifest of 4 MiB is taken and one a byte larger is 413 MANIFEST_TOO_LARGE,
     * as distribution has it; with {@code delete.blobs} on, a blob is taken out of the repository
     * (202), after which it is 404 BLOB_UNKNOWN there and a second delete is too.
     */
    @Test
    void theDefaultManifestLimitIsFourMiBAndBlobsAreDeletedWhereDeleteBlobsIsOn() throws Exception {
        Map<String, Object> settings = new HashMap<>();
        settings.put("regmirror.auth.htpasswd", work.resolve("htpasswd").toString());
        settings.put("regmirror.hosted.namespaces", List.of("lan"));
        settings.put("regmirror.hosted.delete.enabled", true);
        settings.put("regmirror.hosted.delete.blobs", true);
        settings.put("regmirror.auth.rules", List.of(
                Map.of("images", List.of("local/lan/**"), "actions", List.of("push", "delete"), "allow", List.of("alice")),
                Map.of("images", List.of("**"), "allow", List.of("anonymous"))));
        Path cache = work.resolve("cache-defaults");
        seed(cache, List.of("lan/app"), List.of("{\"architecture\":\"amd64\",\"os\":\"linux\"}", "layer one",
                "layer two"));
        try (MirrorFixture defaults = MirrorFixture.start(upstream.url(), cache, settings)) {
            int limit = 4 << 20;
            String unpadded = new String(image(), StandardCharsets.UTF_8).replace("\"schemaVersion\": 2,",
                    "\"schemaVersion\": 2, \"annotations\": {\"pad\": \"\"},");
            int pad = limit - unpadded.getBytes(StandardCharsets.UTF_8).length;
            byte[] largest = unpadded.replace("\"pad\": \"\"", "\"pad\": \"" + "x".repeat(pad) + "\"")
                    .getBytes(StandardCharsets.UTF_8);
            assertEquals(limit, largest.length);
            HttpResponse<byte[]> taken = put(defaults, "/v2/lan/app/manifests/largest", MediaTypes.OCI_MANIFEST, largest);
            assertEquals(201, taken.statusCode(), new String(taken.body(), StandardCharsets.UTF_8));
            assertArrayEquals(largest, defaults.get("/v2/lan/app/manifests/largest").body());
            byte[] over = unpadded.replace("\"pad\": \"\"", "\"pad\": \"" + "x".repeat(pad + 1) + "\"")
                    .getBytes(StandardCharsets.UTF_8);
            HttpResponse<byte[]> refused = put(defaults, "/v2/lan/app/manifests/over", MediaTypes.OCI_MANIFEST, over);
            assertEquals(413, refused.statusCode());
            assertEquals("MANIFEST_TOO_LARGE", errorCode(refused));
            assertEquals(404, defaults.get("/v2/lan/app/manifests/over").statusCode());

            Digest layer = blobs.get("layer two");
            assertEquals(200, defaults.get("/v2/lan/app/blobs/" + layer).statusCode());
            assertEquals(202, delete(defaults, "/v2/lan/app/blobs/" + layer).statusCode());
            HttpResponse<byte[]> gone = defaults.get("/v2/lan/app/blobs/" + layer);
            assertEquals(404, gone.statusCode());
            assertEquals("BLOB_UNKNOWN", errorCode(gone));
            assertEquals("BLOB_UNKNOWN", errorCode(delete(defaults, "/v2/lan/app/blobs/" + layer)));
        }
    }

    @Test
    void referrersListWhatNamesASubjectFilteredByArtifactTypeAndThePushSaysOciSubject() throws Exception {
        byte[] subject = image();
        Digest subjectDigest = Digest.sha256Of(subject);
        assertEquals(201, put(mirror, "/v2/lan/app/manifests/signed", MediaTypes.OCI_MANIFEST, subject).statusCode());
        byte[] signature = referrer("application/vnd.example.signature", "signature", subjectDigest, subject.length);
        byte[] sbom = referrer("application/vnd.example.sbom", "sbom", subjectDigest, subject.length);

        HttpResponse<byte[]> pushed = put(mirror, "/v2/lan/app/manifests/" + Digest.sha256Of(signature),
                MediaTypes.OCI_MANIFEST, signature);
        assertEquals(201, pushed.statusCode());
        assertEquals(subjectDigest.toString(), pushed.headers().firstValue("OCI-Subject").orElseThrow());
        assertEquals(201, put(mirror, "/v2/lan/app/manifests/sbom-of-signed", MediaTypes.OCI_MANIFEST, sbom)
                .statusCode());

        HttpResponse<byte[]> all = mirror.get("/v2/lan/app/referrers/" + subjectDigest);
        assertEquals(200, all.statusCode());
        assertEquals(MediaTypes.OCI_INDEX, all.headers().firstValue("Content-Type").orElseThrow());
        assertFalse(all.headers().firstValue("OCI-Filters-Applied").isPresent());
        JsonNode index = MAPPER.readTree(all.body());
        assertEquals(MediaTypes.OCI_INDEX, index.get("mediaType").asText());
        assertEquals(2, index.get("manifests").size());

        HttpResponse<byte[]> filtered = mirror.get("/v2/lan/app/referrers/" + subjectDigest
                + "?artifactType=application/vnd.example.signature");
        assertEquals("artifactType", filtered.headers().firstValue("OCI-Filters-Applied").orElseThrow());
        JsonNode only = MAPPER.readTree(filtered.body()).get("manifests");
        assertEquals(1, only.size());
        assertEquals(Digest.sha256Of(signature).toString(), only.get(0).get("digest").asText());
        assertEquals(signature.length, only.get(0).get("size").asLong());
        assertEquals(MediaTypes.OCI_MANIFEST, only.get(0).get("mediaType").asText());
        assertEquals("application/vnd.example.signature", only.get(0).get("artifactType").asText());
        assertEquals("signature", only.get(0).at("/annotations/org.example.kind").asText());

        HttpResponse<byte[]> none = mirror.get("/v2/lan/app/referrers/"
                + Digest.sha256Of("nothing refers to me".getBytes(StandardCharsets.UTF_8)));
        assertEquals(200, none.statusCode());
        assertEquals(0, MAPPER.readTree(none.body()).get("manifests").size());
    }
}
