package dev.regmirror.core.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.regmirror.core.blob.BlobIngest;
import dev.regmirror.core.blob.BlobStore;
import dev.regmirror.core.blob.FileBlobStore;
import dev.regmirror.core.blob.ManifestStore;
import dev.regmirror.core.blob.OpenBlob;
import dev.regmirror.core.blob.StoredBlob;
import dev.regmirror.core.cache.TagStore;
import dev.regmirror.core.error.InvalidRequestException;
import dev.regmirror.core.error.RegistryErrorCode;
import dev.regmirror.core.manifest.ManifestBytes;
import dev.regmirror.core.manifest.MediaTypes;
import dev.regmirror.core.mirror.DigestLinks;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.reference.RepositoryName;
import dev.regmirror.core.reference.Tag;
import dev.regmirror.core.storage.CacheStorage;
import dev.regmirror.core.testing.TarFiles;
import dev.regmirror.core.upstream.Endpoint;
import dev.regmirror.core.upstream.EndpointSettings;
import dev.regmirror.core.upstream.Route;
import dev.regmirror.core.upstream.UpstreamRouter;
import dev.regmirror.core.upstream.UpstreamSettings;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link ArchiveImport} on a real cache directory: pins against eviction, the cap, and manifest media types. */
class ArchiveImportTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path work;

    private CacheStorage storage;
    private FileBlobStore store;

    @AfterEach
    void close() throws IOException {
        if (storage != null) {
            storage.close();
        }
    }

    /** A cache of {@code cap} bytes and an import over {@code blobs} (the store itself unless a test wraps it). */
    private ArchiveImport imports(long cap, BlobStore blobs) throws IOException {
        storage = CacheStorage.open(work.resolve("cache"), cap, false, Clock.systemUTC());
        store = storage.files().orElseThrow();
        return new ArchiveImport(storage, blobs == null ? store : blobs, router(), Clock.systemUTC(), DigestLinks.OPEN);
    }

    private ManifestStore manifests() {
        return storage.manifests();
    }

    /**
     * Pulls committing other blobs while an import runs push the cache past its cap; without pins the
     * least recently used of the import's own blobs (committed first) would be evicted before its
     * manifest and tag are recorded, leaving a tagged image without them.
     */
    @Test
    void blobsCommittedDuringAnImportAreNotEvictedBeforeItsTagIsRecorded() throws Exception {
        List<byte[]> layers = layers(3, 10_000);
        Path tar = dockerArchive(layers);
        Random random = new Random(7);
        List<Digest> others = new ArrayList<>();
        // Every blob the import begins is preceded by a 10 kB blob of a concurrent pull.
        BlobStore pulling = new Delegating(() -> store) {
            @Override
            public BlobIngest begin(Digest expected, long expectedSize) throws IOException {
                byte[] other = new byte[10_000];
                random.nextBytes(other);
                others.add(store.put(Digest.sha256Of(other), other).digest());
                return store.begin(expected, expectedSize);
            }
        };
        ArchiveImport imports = imports(35_000, pulling);

        List<ArchiveImport.Imported> imported = imports.run(tar);

        assertEquals(1, imported.size());
        for (byte[] layer : layers) {
            assertTrue(store.find(Digest.sha256Of(layer)).isPresent(), "every layer of the imported image is cached");
        }
        assertTrue(store.find(Digest.sha256Of(CONFIG)).isPresent(), "its config is cached");
        assertTrue(manifests().get(imported.get(0).digest()).isPresent(), "its manifest is cached");
        assertTrue(others.stream().anyMatch(digest -> !store.index().contains(digest)),
                "the cap was enforced on the other blobs instead");
        assertTrue(store.index().totalBytes() <= 35_000, "and is kept once the import is done");
    }

    @Test
    void anImportLargerThanTheCapIsRefusedAndWritesNothing() throws Exception {
        Path tar = dockerArchive(layers(3, 10_000));
        ArchiveImport imports = imports(20_000, null);

        InvalidRequestException refused = assertThrows(InvalidRequestException.class, () -> imports.run(tar));

        assertEquals(RegistryErrorCode.BODY_INVALID, refused.code());
        assertTrue(refused.getMessage().contains("cache.max-size is 20000 bytes"), refused.getMessage());
        assertEquals(0, store.index().size(), "nothing was written");
    }

    @Test
    void aDeclaredMediaTypeThatDisagreesWithTheManifestIsRefused() throws Exception {
        byte[] manifest = ociManifest(layers(1, 1_000));
        Path tar = ociArchive(manifest, MediaTypes.DOCKER_MANIFEST);
        ArchiveImport imports = imports(0, null);

        InvalidRequestException refused = assertThrows(InvalidRequestException.class, () -> imports.run(tar));

        assertEquals(RegistryErrorCode.MANIFEST_INVALID, refused.code());
        assertTrue(refused.getMessage().contains("is declared as \"" + MediaTypes.DOCKER_MANIFEST
                + "\" but its content is \"" + MediaTypes.OCI_MANIFEST + "\""), refused.getMessage());
        assertEquals(0, store.index().size(), "nothing was written");
    }

    @Test
    void aNameWithATagAndTheManifestsDigestRecordsTheTag() throws Exception {
        byte[] manifest = ociManifest(layers(1, 1_000));
        Digest digest = Digest.sha256Of(manifest);
        ArchiveImport imports = imports(0, null);

        List<ArchiveImport.Imported> tagged = imports.run(ociArchive(manifest, MediaTypes.OCI_MANIFEST, "app:1.0@" + digest));
        List<ArchiveImport.Imported> pinned = imports.run(ociArchive(manifest, MediaTypes.OCI_MANIFEST, "app@" + digest));

        assertEquals(List.of(new ArchiveImport.Imported("docker.io/library/app", "1.0", digest, tagged.get(0).bytes())),
                tagged);
        assertEquals(digest, new TagStore(store.layout()).get(new Route("docker.io", new RepositoryName("library/app")),
                new Tag("1.0")).orElseThrow().digest());
        assertEquals(List.of(new ArchiveImport.Imported("docker.io/library/app", null, digest, pinned.get(0).bytes())),
                pinned, "a digest alone records no tag");
    }

    @Test
    void aNameWhoseDigestIsAnotherManifestsIsRefusedAndWritesNothing() throws Exception {
        byte[] manifest = ociManifest(layers(1, 1_000));
        Digest other = Digest.sha256Of("another manifest".getBytes(StandardCharsets.UTF_8));
        ArchiveImport imports = imports(0, null);

        for (String name : List.of("app:1.0@" + other, "app@" + other)) {
            InvalidRequestException refused = assertThrows(InvalidRequestException.class,
                    () -> imports.run(ociArchive(manifest, MediaTypes.OCI_MANIFEST, name)), name);
            assertEquals(RegistryErrorCode.MANIFEST_INVALID, refused.code(), name);
            assertTrue(refused.getMessage().contains("whose digest is another manifest's"), refused.getMessage());
        }
        InvalidRequestException badName = assertThrows(InvalidRequestException.class,
                () -> imports.run(ociArchive(manifest, MediaTypes.OCI_MANIFEST, "App:1.0")));
        assertEquals(RegistryErrorCode.MANIFEST_INVALID, badName.code());
        assertTrue(badName.getMessage().contains("not a valid reference"), badName.getMessage());
        assertEquals(0, store.index().size(), "nothing was written");
    }

    @Test
    void anAlreadyCachedManifestKeepsItsMediaType() throws Exception {
        List<byte[]> layers = layers(1, 1_000);
        byte[] manifest = ociManifest(layers);
        // Without a mediaType field, as OCI allows: cached by a pull that was told it is OCI.
        ObjectNode untyped = (ObjectNode) JSON.readTree(manifest);
        untyped.remove("mediaType");
        byte[] bytes = JSON.writeValueAsBytes(untyped);
        Path tar = ociArchive(bytes, MediaTypes.OCI_MANIFEST);
        ArchiveImport imports = imports(0, null);
        Digest digest = Digest.sha256Of(bytes);
        manifests().put(new ManifestBytes("application/vnd.example.cached+json", digest, bytes));

        imports.run(tar);

        assertEquals("application/vnd.example.cached+json", manifests().get(digest).orElseThrow().mediaType());
    }

    @Test
    void aNewManifestGetsItsDeclaredMediaType() throws Exception {
        byte[] manifest = ociManifest(layers(1, 1_000));
        ArchiveImport imports = imports(0, null);

        imports.run(ociArchive(manifest, MediaTypes.OCI_MANIFEST));

        assertEquals(MediaTypes.OCI_MANIFEST, manifests().get(Digest.sha256Of(manifest)).orElseThrow().mediaType());
    }

    private static final byte[] CONFIG = "{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}".getBytes(StandardCharsets.UTF_8);

    private static List<byte[]> layers(int count, int size) {
        Random random = new Random(count * 31L + size);
        List<byte[]> layers = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            byte[] layer = new byte[size];
            random.nextBytes(layer);
            layers.add(layer);
        }
        return layers;
    }

    private Path dockerArchive(List<byte[]> layers) throws IOException {
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put(blobPath(CONFIG), CONFIG);
        StringBuilder names = new StringBuilder();
        for (byte[] layer : layers) {
            files.put(blobPath(layer), layer);
            names.append(names.isEmpty() ? "" : ",").append('"').append(blobPath(layer)).append('"');
        }
        files.put("manifest.json", ("[{\"Config\":\"" + blobPath(CONFIG) + "\",\"RepoTags\":[\"app:1.0\"],\"Layers\":["
                + names + "]}]").getBytes(StandardCharsets.UTF_8));
        return TarFiles.write(work.resolve("docker.tar"), files);
    }

    private static byte[] ociManifest(List<byte[]> layers) throws IOException {
        ObjectNode manifest = JSON.createObjectNode();
        manifest.put("schemaVersion", 2);
        manifest.put("mediaType", MediaTypes.OCI_MANIFEST);
        descriptor(manifest.putObject("config"), "application/vnd.oci.image.config.v1+json", CONFIG);
        for (byte[] layer : layers) {
            descriptor(manifest.withArray("layers").addObject(), "application/vnd.oci.image.layer.v1.tar", layer);
        }
        return JSON.writeValueAsBytes(manifest);
    }

    private Path ociArchive(byte[] manifest, String declared) throws IOException {
        return ociArchive(manifest, declared, "docker.io/library/app:1.0");
    }

    /**
     * An OCI layout holding the manifest (OCI, one layer of {@code layers(1, 1_000)}), declared in
     * index.json as {@code declared} and named {@code name}.
     */
    private Path ociArchive(byte[] manifest, String declared, String name) throws IOException {
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put(blobPath(CONFIG), CONFIG);
        for (byte[] layer : layers(1, 1_000)) {
            files.put(blobPath(layer), layer);
        }
        files.put(blobPath(manifest), manifest);
        ObjectNode index = JSON.createObjectNode();
        index.put("schemaVersion", 2);
        ObjectNode entry = index.withArray("manifests").addObject();
        descriptor(entry, declared, manifest);
        entry.putObject("annotations").put("io.containerd.image.name", name);
        files.put("index.json", JSON.writeValueAsBytes(index));
        files.put("oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}".getBytes(StandardCharsets.UTF_8));
        return TarFiles.write(work.resolve("oci-" + Digest.sha256Of(manifest).hex() + "-"
                + Integer.toHexString(name.hashCode()) + ".tar"), files);
    }

    private static void descriptor(ObjectNode node, String mediaType, byte[] content) {
        node.put("mediaType", mediaType);
        node.put("size", content.length);
        node.put("digest", Digest.sha256Of(content).toString());
    }

    private static String blobPath(byte[] content) {
        return "blobs/sha256/" + Digest.sha256Of(content).hex();
    }

    private static UpstreamRouter router() {
        return new UpstreamRouter(List.of(new UpstreamSettings("docker.io", List.of(), List.of(), "library",
                List.of(Endpoint.of(EndpointSettings.anonymous("docker.io", URI.create("http://127.0.0.1:1"),
                        Duration.ofSeconds(1), Duration.ofSeconds(1)))), Duration.ofSeconds(30))), "docker.io");
    }

    /** A {@link BlobStore} passing everything to the store a test opened. */
    private static class Delegating implements BlobStore {
        private final java.util.function.Supplier<BlobStore> target;

        Delegating(java.util.function.Supplier<BlobStore> target) {
            this.target = target;
        }

        @Override
        public Optional<StoredBlob> find(Digest digest) throws IOException {
            return target.get().find(digest);
        }

        @Override
        public Optional<OpenBlob> open(Digest digest) throws IOException {
            return target.get().open(digest);
        }

        @Override
        public BlobIngest begin(Digest expected, long expectedSize) throws IOException {
            return target.get().begin(expected, expectedSize);
        }

        @Override
        public BlobIngest beginRelay(Digest expected, long expectedSize) throws IOException {
            return target.get().beginRelay(expected, expectedSize);
        }

        @Override
        public Optional<byte[]> readAll(Digest digest) throws IOException {
            return target.get().readAll(digest);
        }

        @Override
        public StoredBlob put(Digest digest, byte[] bytes) throws IOException {
            return target.get().put(digest, bytes);
        }

        @Override
        public StoredBlob adopt(java.nio.file.Path file, Digest digest, long size) throws IOException {
            return target.get().adopt(file, digest, size);
        }

        @Override
        public Optional<Long> delete(Digest digest) throws IOException {
            return target.get().delete(digest);
        }

        @Override
        public Optional<byte[]> peek(Digest digest) throws IOException {
            return target.get().peek(digest);
        }

        @Override
        public Optional<Checked> openForCheck(Digest digest) throws IOException {
            return target.get().openForCheck(digest);
        }

        @Override
        public boolean has(Digest digest) throws IOException {
            return target.get().has(digest);
        }

        @Override
        public Optional<String> quarantine(Digest digest, Object identity, java.time.Instant at) throws IOException {
            return target.get().quarantine(digest, identity, at);
        }

        @Override
        public java.util.List<Leftover> ingestLeftovers() throws IOException {
            return target.get().ingestLeftovers();
        }

        @Override
        public dev.regmirror.core.cache.CacheIndex index() {
            return target.get().index();
        }

        @Override
        public long evictions() {
            return target.get().evictions();
        }
    }
}
