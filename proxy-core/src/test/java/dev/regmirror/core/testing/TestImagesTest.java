package dev.regmirror.core.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.regmirror.core.manifest.Descriptor;
import dev.regmirror.core.manifest.MediaTypes;
import dev.regmirror.core.reference.Digest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TestImagesTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    @Test
    void sameSeedGivesTheSameImageAndAnotherSeedAnother() {
        BuiltImage a = TestImages.singleArch(tmp.resolve("a"), "v1", 2, 4096, 7);
        BuiltImage b = TestImages.singleArch(tmp.resolve("b"), "v1", 2, 4096, 7);
        BuiltImage c = TestImages.singleArch(tmp.resolve("c"), "v1", 2, 4096, 8);

        assertEquals(a.manifests(), b.manifests());
        assertNotEquals(a.digest(), c.digest());
    }

    @Test
    void ociLayoutHoldsEveryBlobUnderItsDigestAndTagsInIndexJson() throws IOException {
        BuiltImage one = TestImages.singleArch(tmp, "one", 2, 1000, 1);
        BuiltImage two = TestImages.multiArch(tmp, "two", List.of("linux/amd64", "linux/arm64/v8"), 2, 1000, 1);

        JsonNode index = JSON.readTree(tmp.resolve("index.json").toFile());
        assertEquals(List.of("one", "two"), index.path("manifests").findValuesAsText("org.opencontainers.image.ref.name"));
        assertEquals("oci:" + tmp + ":two", two.source());
        for (BuiltImage image : List.of(one, two)) {
            assertEquals(image.digest(), Digest.sha256Of(Files.readAllBytes(blob(tmp, image.digest()))));
            for (Descriptor d : image.blobs()) {
                assertEquals(d.size(), Files.size(blob(tmp, d.digest())));
            }
        }
        assertTrue(Files.exists(tmp.resolve("oci-layout")));
    }

    @Test
    void indexSharesTheFirstLayerAndNamesEachPlatform() throws IOException {
        BuiltImage index = TestImages.multiArch(tmp, "v1", List.of("linux/amd64", "linux/arm64/v8"), 3, 1000, 1);

        assertEquals(5, index.layers().size(), "1 shared + 2 x 2 own");
        assertEquals(index.manifestFor("linux/amd64").layers().get(0), index.manifestFor("linux/arm64/v8").layers().get(0));
        JsonNode json = JSON.readTree(blob(tmp, index.digest()).toFile());
        assertEquals(MediaTypes.OCI_INDEX, json.path("mediaType").asText());
        assertEquals("v8", json.path("manifests").get(1).path("platform").path("variant").asText());
        JsonNode config = JSON.readTree(blob(tmp, index.manifestFor("linux/arm64/v8").config().digest()).toFile());
        assertEquals("arm64", config.path("architecture").asText());
    }

    @Test
    void layersAreGzippedTarsOfOneFileWhoseDigestIsTheDiffId() throws IOException {
        BuiltManifest manifest = TestImages.singleArch(tmp, "v1", 1, 3000, 1).manifest();

        byte[] tar;
        try (GZIPInputStream in = new GZIPInputStream(Files.newInputStream(blob(tmp, manifest.layerDigests().get(0))))) {
            tar = in.readAllBytes();
        }
        assertEquals(manifest.diffIds().get(0), Digest.sha256Of(tar));
        assertEquals(512 + 3072 + 1024, tar.length);
        assertEquals("ustar", new String(tar, 257, 5, StandardCharsets.US_ASCII));
        assertEquals(3000, Long.parseLong(new String(tar, 124, 11, StandardCharsets.US_ASCII), 8));
        byte[] header = Arrays.copyOf(tar, 512);
        long stored = Long.parseLong(new String(header, 148, 6, StandardCharsets.US_ASCII), 8);
        Arrays.fill(header, 148, 156, (byte) ' ');
        long sum = 0;
        for (byte b : header) {
            sum += b & 0xff;
        }
        assertEquals(sum, stored, "header checksum");
        assertArrayEquals(new byte[1024], Arrays.copyOfRange(tar, tar.length - 1024, tar.length), "end of archive");
    }

    @Test
    void dockerImagesGoToSkopeosDirFormatWithDockerMediaTypes() throws IOException {
        BuiltImage list = TestImages.multiArch(tmp, "v1", List.of("linux/amd64", "linux/arm64"), 1, 100, 1,
                ImageFormat.DOCKER_V2S2);

        Path dir = tmp.resolve("v1");
        assertEquals("dir:" + dir, list.source());
        assertEquals("Directory Transport Version: 1.1\n", Files.readString(dir.resolve("version")));
        assertEquals(list.digest(), Digest.sha256Of(Files.readAllBytes(dir.resolve("manifest.json"))));
        BuiltManifest amd64 = list.manifestFor("linux/amd64");
        JsonNode manifest = JSON.readTree(dir.resolve(amd64.digest().hex() + ".manifest.json").toFile());
        assertEquals(MediaTypes.DOCKER_MANIFEST, manifest.path("mediaType").asText());
        assertEquals("application/vnd.docker.image.rootfs.diff.tar.gzip",
                manifest.path("layers").get(0).path("mediaType").asText());
        assertTrue(Files.exists(dir.resolve(amd64.config().digest().hex())));
    }

    private static Path blob(Path layout, Digest digest) {
        return layout.resolve("blobs").resolve("sha256").resolve(digest.hex());
    }
}
