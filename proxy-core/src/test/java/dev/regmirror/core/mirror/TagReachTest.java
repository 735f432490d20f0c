package dev.regmirror.core.mirror;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.regmirror.core.blob.FileBlobStore;
import dev.regmirror.core.blob.ManifestStore;
import dev.regmirror.core.cache.TagStore;
import dev.regmirror.core.manifest.ManifestBytes;
import dev.regmirror.core.manifest.MediaTypes;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.reference.RepositoryName;
import dev.regmirror.core.reference.Tag;
import dev.regmirror.core.upstream.Route;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a repository reached through its tag records, read from a real cache directory. */
class TagReachTest {

    private static final Route APP = new Route("docker.io", new RepositoryName("library/app"));
    private static final Route OTHER = new Route("docker.io", new RepositoryName("library/other"));

    @TempDir
    Path dir;

    private static Digest digestOf(String text) {
        return Digest.sha256Of(text.getBytes(StandardCharsets.UTF_8));
    }

    private static ManifestBytes manifest(String mediaType, String json) {
        byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
        return new ManifestBytes(mediaType, Digest.sha256Of(bytes), bytes);
    }

    private static String layer(Digest digest, String extra) {
        return "{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"" + digest
                + "\",\"size\":5" + extra + "}";
    }

    @Test
    void aTaggedIndexReachesItsPlatformsAndTheirHeldBlobsAndNothingElse() throws Exception {
        FileBlobStore blobs = FileBlobStore.open(dir);
        ManifestStore manifests = new ManifestStore(blobs, blobs.layout());
        TagStore tags = new TagStore(blobs.layout());
        Digest config = digestOf("config");
        Digest layer = digestOf("layer");
        Digest named = digestOf("someone else's layer");
        ManifestBytes image = manifest(MediaTypes.OCI_MANIFEST, "{\"schemaVersion\":2,\"mediaType\":\""
                + MediaTypes.OCI_MANIFEST + "\",\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\","
                + "\"digest\":\"" + config + "\",\"size\":6},\"layers\":[" + layer(layer, "") + ","
                + layer(named, ",\"urls\":[\"https://example.com/l\"]") + "]}");
        ManifestBytes index = manifest(MediaTypes.OCI_INDEX, "{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_INDEX
                + "\",\"manifests\":[{\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",\"digest\":\"" + image.digest()
                + "\",\"size\":" + image.bytes().length + "}]}");
        ManifestBytes untagged = manifest(MediaTypes.OCI_MANIFEST, "{\"schemaVersion\":2,\"mediaType\":\""
                + MediaTypes.OCI_MANIFEST + "\",\"layers\":[" + layer(digestOf("untagged layer"), "") + "]}");
        for (ManifestBytes cached : new ManifestBytes[] {image, index, untagged}) {
            manifests.put(cached);
        }
        tags.put(APP, new Tag("1.0"), new TagStore.Resolution(index.digest(), Instant.parse("2026-12-03T12:00:00Z")));
        TagReach reach = new TagReach(tags, manifests, Runnable::run);

        for (Digest reached : new Digest[] {index.digest(), image.digest(), config, layer}) {
            assertTrue(reach.reaches(APP, reached).join(), reached.toString());
        }
        assertFalse(reach.reaches(APP, named).join(), "a layer with urls is named, not held");
        assertFalse(reach.reaches(APP, untagged.digest()).join(), "cached, but no tag of the name reaches it");
        assertFalse(reach.reaches(APP, digestOf("untagged layer")).join());
        assertFalse(reach.reaches(OTHER, layer).join(), "another name's tags say nothing for this one");
    }
}
