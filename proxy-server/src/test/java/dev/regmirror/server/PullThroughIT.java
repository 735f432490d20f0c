package dev.regmirror.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.regmirror.core.manifest.Descriptor;
import dev.regmirror.core.manifest.MediaTypes;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.storage.CacheLayout;
import dev.regmirror.core.testing.BuiltImage;
import dev.regmirror.core.testing.BuiltManifest;
import dev.regmirror.core.testing.Closing;
import dev.regmirror.core.testing.ImageFormat;
import dev.regmirror.core.testing.RegistryProcess;
import dev.regmirror.core.testing.Skopeo;
import dev.regmirror.core.testing.TestImages;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * End to end as a user runs it: a real CNCF distribution registry as the upstream, images pushed to
 * it with skopeo, pulled back through regmirror with skopeo, and the upstream's own access log
 * showing what regmirror asked it for.
 */
class PullThroughIT {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path work;

    private static RegistryProcess upstream;
    private static Skopeo skopeo;
    private static MirrorFixture mirror;
    private static BuiltImage single;
    private static BuiltImage multi;
    private static BuiltImage docker;

    @BeforeAll
    static void pushImages() throws Exception {
        upstream = RegistryProcess.start();
        skopeo = new Skopeo();
        single = TestImages.singleArch(work.resolve("single"), "1.0", 3, 200_000, 11);
        multi = TestImages.multiArch(work.resolve("multi"), "2.0", List.of("linux/amd64", "linux/arm64/v8"), 2,
                150_000, 12);
        docker = TestImages.multiArch(work.resolve("docker"), "3.0", List.of("linux/amd64", "linux/arm/v7"), 2,
                100_000, 13, ImageFormat.DOCKER_V2S2);
        skopeo.copy(single.source(), "docker://" + upstream.hostPort() + "/library/app:1.0");
        skopeo.copy(multi.source(), "docker://" + upstream.hostPort() + "/library/multi:2.0", "--all");
        skopeo.copy(docker.source(), "docker://" + upstream.hostPort() + "/team/tool:3.0", "--all");
        mirror = MirrorFixture.start(upstream.url(), work.resolve("cache"), Map.of());
    }

    @AfterAll
    static void stop() throws Exception {
        Closing.all(mirror, skopeo, upstream);
    }

    @BeforeEach
    void forgetEarlierRequests() {
        upstream.reset();
    }

    private String viaMirror(String nameAndTag) {
        return "docker://" + mirror.hostPort() + "/" + nameAndTag;
    }

    @Test
    void multiLayerImagePullsWithIdenticalDigestsAndTheSecondPullAsksNoBlob() throws Exception {
        Path first = work.resolve("pull-single-1");
        skopeo.copyToDir(viaMirror("app:1.0"), first);
        assertPulledExactly(first, single.manifest());
        assertEquals(single.blobs().size(), upstream.blobGets().size(), "each blob fetched once");

        upstream.reset();
        Path second = work.resolve("pull-single-2");
        skopeo.copyToDir(viaMirror("app:1.0"), second);
        assertPulledExactly(second, single.manifest());
        assertEquals(0, upstream.blobGets().size(), "the second pull is served from disk: " + upstream.requests());
        assertEquals(0, upstream.count("GET", "/v2/.+/manifests/.+"), "manifest bytes come from the cache");
        assertEquals(single.digest(), skopeo.inspectDigest(viaMirror("app:1.0")));
    }

    @Test
    void multiArchImagePullsEveryPlatformWithIdenticalDigests() throws Exception {
        assertEquals(multi.digest(), skopeo.inspectDigest(viaMirror("multi:2.0")));
        Path layout = work.resolve("pull-multi");
        skopeo.copyToOci(viaMirror("multi:2.0"), layout, "2.0", "--all");
        for (BuiltManifest manifest : multi.manifests()) {
            assertTrue(Files.exists(blobIn(layout, manifest.digest())), manifest.platform());
            for (Descriptor blob : manifest.layers()) {
                assertEquals(blob.digest(), Digest.sha256Of(Files.readAllBytes(blobIn(layout, blob.digest()))));
            }
        }
        JsonNode index = JSON.readTree(Files.readAllBytes(blobIn(layout, multi.digest())));
        assertEquals(2, index.get("manifests").size());

        upstream.reset();
        skopeo.copyToOci(viaMirror("multi:2.0"), work.resolve("pull-multi-again"), "2.0", "--all");
        assertEquals(0, upstream.blobGets().size(), upstream.requests().toString());
    }

    @Test
    void dockerManifestListIsServedAsStoredAndPerPlatform() throws Exception {
        byte[] viaMirror = skopeo.inspectRaw(viaMirror("team/tool:3.0"));
        byte[] direct = skopeo.inspectRaw("docker://" + upstream.hostPort() + "/team/tool:3.0");
        assertArrayEquals(direct, viaMirror, "manifest bytes are stored exactly");
        Path pulled = work.resolve("pull-docker");
        skopeo.copyToDir(viaMirror("team/tool:3.0"), pulled);
        assertPulledExactly(pulled, docker.manifestFor("linux/amd64"));

        HttpResponse<byte[]> list = mirror.get("/v2/team/tool/manifests/3.0", "Accept", MediaTypes.DOCKER_MANIFEST_LIST);
        assertEquals(MediaTypes.DOCKER_MANIFEST_LIST, list.headers().firstValue("Content-Type").orElse(""));
        assertEquals(docker.digest().toString(), list.headers().firstValue("Docker-Content-Digest").orElse(""));
        assertEquals("\"" + docker.digest() + "\"", list.headers().firstValue("ETag").orElse(""));
        assertEquals(String.valueOf(list.body().length), list.headers().firstValue("Content-Length").orElse(""));
        assertEquals(docker.digest(), Digest.sha256Of(list.body()));

        HttpResponse<Void> head = mirror.head("/v2/team/tool/manifests/3.0", "Accept", MediaTypes.DOCKER_MANIFEST_LIST);
        assertEquals(200, head.statusCode());
        assertEquals(list.headers().firstValue("Docker-Content-Digest"), head.headers().firstValue("Docker-Content-Digest"));
        assertEquals(list.headers().firstValue("Content-Length"), head.headers().firstValue("Content-Length"));
        assertEquals(list.headers().firstValue("Content-Type"), head.headers().firstValue("Content-Type"));

        HttpResponse<byte[]> oldClient = mirror.get("/v2/team/tool/manifests/3.0", "Accept", MediaTypes.DOCKER_MANIFEST);
        assertEquals(200, oldClient.statusCode());
        assertEquals(docker.manifestFor("linux/amd64").digest().toString(),
                oldClient.headers().firstValue("Docker-Content-Digest").orElse(""),
                "a client that takes no lists gets the linux/amd64 manifest, under its own digest");
        assertEquals(docker.manifestFor("linux/amd64").digest(), Digest.sha256Of(oldClient.body()));

        HttpResponse<byte[]> notModified = mirror.get("/v2/team/tool/manifests/" + docker.digest(),
                "Accept", MediaTypes.DOCKER_MANIFEST_LIST, "If-None-Match", "\"" + docker.digest() + "\"");
        assertEquals(304, notModified.statusCode());
    }

    @Test
    void ociManifestForAClientThatTakesOnlyDockerTypesIsManifestUnknown() throws Exception {
        HttpResponse<byte[]> response = mirror.get("/v2/app/manifests/1.0", "Accept", MediaTypes.DOCKER_MANIFEST);
        assertEquals(404, response.statusCode());
        assertEquals("MANIFEST_UNKNOWN", JSON.readTree(response.body()).get("errors").get(0).get("code").asText());
    }

    @Test
    void missingImagesAreTheUpstreamsNotFound() throws Exception {
        HttpResponse<byte[]> tag = mirror.get("/v2/app/manifests/no-such-tag", "Accept", MediaTypes.OCI_MANIFEST);
        assertEquals(404, tag.statusCode());
        assertEquals("MANIFEST_UNKNOWN", JSON.readTree(tag.body()).get("errors").get(0).get("code").asText());

        HttpResponse<byte[]> repo = mirror.get("/v2/nobody/here/manifests/latest");
        assertEquals(404, repo.statusCode());
        String code = JSON.readTree(repo.body()).get("errors").get(0).get("code").asText();
        assertTrue(code.equals("NAME_UNKNOWN") || code.equals("MANIFEST_UNKNOWN"), code);

        Digest absent = Digest.sha256Of(new byte[] {9, 9, 9});
        HttpResponse<byte[]> blob = mirror.get("/v2/app/blobs/" + absent);
        assertEquals(404, blob.statusCode());
        assertEquals("BLOB_UNKNOWN", JSON.readTree(blob.body()).get("errors").get(0).get("code").asText());
        assertEquals(404, mirror.head("/v2/app/blobs/" + absent).statusCode());

        assertThrows(IllegalStateException.class, () -> skopeo.inspectRaw(viaMirror("app:no-such-tag")));
    }

    @Test
    void sharedLayersAreStoredOnce() throws Exception {
        skopeo.copyToOci(viaMirror("multi:2.0"), work.resolve("pull-multi-shared"), "2.0", "--all");
        Set<String> expected = new HashSet<>();
        multi.blobs().forEach(d -> expected.add(d.digest().hex()));
        multi.manifests().forEach(m -> expected.add(m.digest().hex()));
        expected.add(multi.digest().hex());
        Set<String> stored = new HashSet<>();
        try (Stream<Path> files = Files.walk(new CacheLayout(work.resolve("cache")).blobs())) {
            files.filter(Files::isRegularFile).forEach(f -> stored.add(f.getFileName().toString()));
        }
        assertTrue(stored.containsAll(expected), "every blob and manifest of the image is cached");
        long sharedBase = multi.manifests().stream().map(m -> m.layers().get(0).digest()).distinct().count();
        assertEquals(1, sharedBase, "the generated platforms share their base layer");
        try (Stream<Path> files = Files.walk(work.resolve("cache"))) {
            long copies = files.filter(f -> f.getFileName().toString()
                    .equals(multi.manifests().get(0).layers().get(0).digest().hex())).count();
            assertEquals(1, copies, "a layer shared by two platforms is one file");
        }
    }

    private static Path blobIn(Path ociLayout, Digest digest) {
        return ociLayout.resolve("blobs").resolve(digest.algorithm()).resolve(digest.hex());
    }

    /** A skopeo {@code dir:} pull holds the manifest's config and layers, each with its digest's bytes. */
    private static void assertPulledExactly(Path dir, BuiltManifest expected) throws IOException {
        assertEquals(expected.digest(), Digest.sha256Of(Files.readAllBytes(dir.resolve("manifest.json"))));
        List<Descriptor> blobs = new java.util.ArrayList<>(expected.layers());
        blobs.add(expected.config());
        for (Descriptor blob : blobs) {
            Path file = dir.resolve(blob.digest().hex());
            assertEquals(blob.digest(), Digest.sha256Of(Files.readAllBytes(file)), "blob " + blob.digest());
        }
    }
}
