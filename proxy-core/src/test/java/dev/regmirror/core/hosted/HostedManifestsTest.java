package dev.regmirror.core.hosted;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.regmirror.core.blob.FileBlobStore;
import dev.regmirror.core.blob.ManifestStore;
import dev.regmirror.core.error.InvalidRequestException;
import dev.regmirror.core.error.RegistryErrorCode;
import dev.regmirror.core.manifest.ManifestBytes;
import dev.regmirror.core.manifest.MediaTypes;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.reference.RepositoryName;
import dev.regmirror.core.reference.Tag;
import dev.regmirror.core.upstream.Route;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Pushes, reads, tags, deletes and referrers of a hosted repository, on a real cache directory. */
class HostedManifestsTest {

    private static final Route APP = Route.hosted("local", new RepositoryName("lan/app"));
    private static final Route OTHER = Route.hosted("local", new RepositoryName("lan/other"));

    @TempDir
    Path dir;

    private FileBlobStore blobs;
    private HostedStore store;
    private ManifestStore manifestStore;
    private HostedManifests manifests;

    @BeforeEach
    void open() throws IOException {
        blobs = FileBlobStore.open(dir);
        manifestStore = new ManifestStore(blobs, blobs.layout());
        store = HostedStore.open(blobs.layout(), blobs.index());
        manifests = new HostedManifests(store, manifestStore, 4096);
    }

    @AfterEach
    void close() throws IOException {
        blobs.close();
    }

    /** Stores a blob and links it into the repository, as an upload would. */
    private Digest blob(Route route, String content) throws IOException {
        byte[] bytes = content.getBytes(StandardCharsets.UTF_8);
        Digest digest = Digest.sha256Of(bytes);
        blobs.put(digest, bytes);
        store.linkBlob(route, digest);
        return digest;
    }

    private static String image(Digest config, Digest layer, String extra) {
        return "{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",\"config\":{\"mediaType\":"
                + "\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" + config + "\",\"size\":6},"
                + "\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"" + layer
                + "\",\"size\":5}]" + extra + "}";
    }

    private static String artifact(String artifactType, Digest config, Digest subject, int subjectSize) {
        return "{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",\"artifactType\":\""
                + artifactType + "\",\"config\":{\"mediaType\":\"application/vnd.oci.empty.v1+json\",\"digest\":\""
                + config + "\",\"size\":2},\"layers\":[],\"subject\":{\"mediaType\":\"" + MediaTypes.OCI_MANIFEST
                + "\",\"digest\":\"" + subject + "\",\"size\":" + subjectSize + "},\"annotations\":{\"k\":\"v\"}}";
    }

    private static byte[] bytes(String json) {
        return json.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void aManifestPushedByTagIsStoredByteForByteWithItsMediaTypeAndTagged() throws IOException {
        byte[] body = bytes("  " + image(blob(APP, "config"), blob(APP, "layer"), "") + "\n");

        HostedManifests.Pushed pushed = manifests.push(APP, new Tag("1.0"), Optional.of(MediaTypes.OCI_MANIFEST), body);

        assertEquals(Digest.sha256Of(body), pushed.digest());
        assertEquals(Optional.empty(), pushed.subject());
        ManifestBytes back = manifests.get(APP, new Tag("1.0")).orElseThrow();
        assertArrayEquals(body, back.bytes());
        assertEquals(MediaTypes.OCI_MANIFEST, back.mediaType());
        assertEquals(Optional.of(List.of(new Tag("1.0"))), manifests.tags(APP));
        assertTrue(manifests.get(OTHER, pushed.digest()).isEmpty(), "only in the repository it was pushed to");
        assertTrue(blobs.index().retained(pushed.digest()), "kept past any cache cap");
    }

    @Test
    void aManifestPushedByDigestMustHaveThatDigest() throws IOException {
        byte[] body = bytes(image(blob(APP, "config"), blob(APP, "layer"), ""));

        InvalidRequestException wrong = assertThrows(InvalidRequestException.class, () -> manifests.push(APP,
                Digest.sha256Of(bytes("something else")), Optional.of(MediaTypes.OCI_MANIFEST), body));
        assertEquals(RegistryErrorCode.DIGEST_INVALID, wrong.code());

        Digest digest = manifests.push(APP, Digest.sha256Of(body), Optional.of(MediaTypes.OCI_MANIFEST), body).digest();
        assertEquals(Digest.sha256Of(body), digest);
        assertEquals(Optional.of(List.of()), manifests.tags(APP), "pushed by digest: no tag");
    }

    @Test
    void aManifestMayBePushedByItsSha512Digest() throws Exception {
        byte[] body = bytes(image(blob(APP, "config"), blob(APP, "layer"), ""));
        Digest sha512 = new Digest("sha512", java.util.HexFormat.of().formatHex(
                java.security.MessageDigest.getInstance("SHA-512").digest(body)));

        assertEquals(sha512, manifests.push(APP, sha512, Optional.of(MediaTypes.OCI_MANIFEST), body).digest());
        assertArrayEquals(body, manifests.get(APP, sha512).orElseThrow().bytes());
    }

    @Test
    void aBlobNotInTheRepositoryIsManifestBlobUnknownNamingItAndNothingIsStored() throws IOException {
        Digest elsewhere = blob(OTHER, "layer");
        byte[] body = bytes(image(blob(APP, "config"), elsewhere, ""));

        InvalidRequestException e = assertThrows(InvalidRequestException.class, () -> manifests.push(APP,
                new Tag("1.0"), Optional.of(MediaTypes.OCI_MANIFEST), body));

        assertEquals(RegistryErrorCode.MANIFEST_BLOB_UNKNOWN, e.code());
        assertEquals(400, e.code().status());
        assertEquals(Map.of("digest", elsewhere.toString()), e.detail());
        assertTrue(manifests.get(APP, Digest.sha256Of(body)).isEmpty());
        assertEquals(Optional.empty(), manifests.tags(APP));
    }

    @Test
    void anIndexNeedsEveryChildInTheRepository() throws IOException {
        byte[] child = bytes(image(blob(APP, "config"), blob(APP, "layer"), ""));
        Digest childDigest = Digest.sha256Of(child);
        String index = "{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_INDEX + "\",\"manifests\":[{"
                + "\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",\"digest\":\"" + childDigest + "\",\"size\":"
                + child.length + "}]}";

        InvalidRequestException e = assertThrows(InvalidRequestException.class, () -> manifests.push(APP,
                new Tag("multi"), Optional.of(MediaTypes.OCI_INDEX), bytes(index)));
        assertEquals(RegistryErrorCode.MANIFEST_BLOB_UNKNOWN, e.code());

        manifests.push(APP, childDigest, Optional.of(MediaTypes.OCI_MANIFEST), child);
        manifests.push(APP, new Tag("multi"), Optional.of(MediaTypes.OCI_INDEX), bytes(index));
        assertEquals(MediaTypes.OCI_INDEX, manifests.get(APP, new Tag("multi")).orElseThrow().mediaType());
    }

    @Test
    void aManifestLargerThanTheLimitIsRefusedAsTooLarge() throws IOException {
        byte[] body = bytes(image(blob(APP, "config"), blob(APP, "layer"),
                ",\"annotations\":{\"pad\":\"" + "x".repeat(5000) + "\"}"));

        InvalidRequestException e = assertThrows(InvalidRequestException.class, () -> manifests.push(APP,
                new Tag("big"), Optional.of(MediaTypes.OCI_MANIFEST), body));

        assertEquals(RegistryErrorCode.MANIFEST_TOO_LARGE, e.code());
        assertEquals(413, e.code().status());
        assertTrue(manifests.get(APP, Digest.sha256Of(body)).isEmpty());
    }

    @Test
    void referrersAreListedByTheirSubjectWhetherOrNotTheSubjectExistsAndFilteredByArtifactType() throws IOException {
        Digest empty = blob(APP, "{}");
        Digest subject = Digest.sha256Of(bytes("never pushed"));
        byte[] signature = bytes(artifact("application/vnd.example.signature", empty, subject, 12));
        byte[] sbom = bytes(artifact("application/vnd.example.sbom", empty, subject, 12));

        HostedManifests.Pushed pushed = manifests.push(APP, Digest.sha256Of(signature),
                Optional.of(MediaTypes.OCI_MANIFEST), signature);
        manifests.push(APP, Digest.sha256Of(sbom), Optional.of(MediaTypes.OCI_MANIFEST), sbom);

        assertEquals(Optional.of(subject), pushed.subject());
        List<Referrer> all = manifests.referrers(APP, subject, Optional.empty());
        assertEquals(2, all.size());
        Referrer sig = manifests.referrers(APP, subject, Optional.of("application/vnd.example.signature")).get(0);
        assertEquals(new Referrer(MediaTypes.OCI_MANIFEST, Digest.sha256Of(signature), signature.length,
                Optional.of("application/vnd.example.signature"), Map.of("k", "v")), sig);
        assertEquals(List.of(), manifests.referrers(APP, Digest.sha256Of(bytes("x")), Optional.empty()));
        assertEquals(List.of(), manifests.referrers(OTHER, subject, Optional.empty()));
    }

    @Test
    void deletingAManifestRemovesItsTagsAndItsReferrerEntryDeletingATagKeepsTheManifest() throws IOException {
        Digest empty = blob(APP, "{}");
        byte[] image = bytes(image(blob(APP, "config"), blob(APP, "layer"), ""));
        Digest imageDigest = manifests.push(APP, new Tag("1.0"), Optional.of(MediaTypes.OCI_MANIFEST), image).digest();
        manifests.push(APP, new Tag("latest"), Optional.of(MediaTypes.OCI_MANIFEST), image);
        byte[] sig = bytes(artifact("application/vnd.example.signature", empty, imageDigest, image.length));
        Digest sigDigest = manifests.push(APP, new Tag("sig"), Optional.of(MediaTypes.OCI_MANIFEST), sig).digest();

        assertTrue(manifests.deleteTag(APP, new Tag("latest")));
        assertFalse(manifests.deleteTag(APP, new Tag("latest")));
        assertTrue(manifests.get(APP, imageDigest).isPresent(), "the manifest stays");

        assertTrue(manifests.deleteManifest(APP, sigDigest));
        assertFalse(manifests.deleteManifest(APP, sigDigest));
        assertEquals(Optional.of(List.of(new Tag("1.0"))), manifests.tags(APP));
        assertEquals(List.of(), manifests.referrers(APP, imageDigest, Optional.empty()));
        assertTrue(manifests.get(APP, new Tag("sig")).isEmpty());
    }
}
