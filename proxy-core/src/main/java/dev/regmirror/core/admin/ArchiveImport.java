package dev.regmirror.core.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.regmirror.core.admin.ArchiveEntries.Compression;
import dev.regmirror.core.admin.ArchiveEntries.Entry;
import dev.regmirror.core.blob.BlobIngest;
import dev.regmirror.core.blob.BlobStore;
import dev.regmirror.core.blob.ManifestStore;
import dev.regmirror.core.cache.CacheIndex;
import dev.regmirror.core.cache.RepositoryStore;
import dev.regmirror.core.cache.TagStore;
import dev.regmirror.core.error.InvalidRequestException;
import dev.regmirror.core.error.Printable;
import dev.regmirror.core.error.RegistryErrorCode;
import dev.regmirror.core.hosted.HostedStore;
import dev.regmirror.core.manifest.Descriptor;
import dev.regmirror.core.manifest.ManifestBytes;
import dev.regmirror.core.manifest.Manifests;
import dev.regmirror.core.manifest.MediaTypes;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.reference.ImageReference;
import dev.regmirror.core.reference.Tag;
import dev.regmirror.core.storage.CacheStorage;
import dev.regmirror.core.mirror.DigestLinks;
import dev.regmirror.core.upstream.Route;
import dev.regmirror.core.upstream.UpstreamRouter;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.locks.Lock;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * Puts the images of an archive into the cache, as {@code regmirror export} or {@code docker save}
 * write them: from {@code index.json} (an OCI layout, also Docker 25's docker-archive) with the
 * original manifest bytes, else from {@code manifest.json} (an older docker-archive) with a Docker
 * schema 2 manifest made from the config and layers. Everything is checked before anything is
 * written: names route to a configured upstream, every referenced blob is in the archive with its
 * digest. Then the blobs go through the store's ingest and commit, the manifests through the
 * {@link ManifestStore} (a manifest already cached keeps its media type), and the tags are recorded
 * as resolved now; an image named under a hosted name goes into its hosted repository instead,
 * linked and tagged as a push would put it. Every blob and manifest of the import is pinned in the {@link CacheIndex} from
 * before the first commit until the tags are recorded, so eviction past the cap cannot take them
 * meanwhile, and an import larger than the cap is refused up front. Disk I/O: call from the
 * maintenance executor, which runs imports, purges and prunes one at a time, so a prune never sees
 * the new blobs before their manifests and tags.
 */
public final class ArchiveImport {

    /** One imported image: its repository, tag (null if it came by digest only), digest and bytes. */
    public record Imported(String name, String tag, Digest digest, long bytes) {
    }

    /** An image to import: where, under which tag, its top manifest and the manifests under it. */
    private record Image(Route route, Optional<Tag> tag, ManifestBytes top, List<ManifestBytes> children, long bytes) {
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String IMAGE_NAME = "io.containerd.image.name";
    private static final String REF_NAME = "org.opencontainers.image.ref.name";

    private final BlobStore blobs;
    private final ManifestStore manifests;
    private final TagStore tags;
    private final RepositoryStore repositories;
    private final UpstreamRouter router;
    private final Clock clock;
    private final CacheIndex index;
    private final Optional<HostedStore> hosted;
    private final DigestLinks links;

    /**
     * An import into the cache; an image named under a hosted name goes to its hosted repositories
     * (when hosting is on), linked and tagged as a push would put it.
     */
    public ArchiveImport(CacheStorage storage, UpstreamRouter router, Clock clock) {
        this(storage, router, clock, DigestLinks.OPEN);
    }

    /** @param links where what is imported under a mirrored name is linked to that name */
    public ArchiveImport(CacheStorage storage, UpstreamRouter router, Clock clock, DigestLinks links) {
        this(storage, storage.blobs(), router, clock, links);
    }

    /** As {@link #ArchiveImport(CacheStorage, UpstreamRouter, Clock, DigestLinks)}, writing blobs through {@code blobs}. */
    ArchiveImport(CacheStorage storage, BlobStore blobs, UpstreamRouter router, Clock clock, DigestLinks links) {
        this.links = links;
        this.hosted = storage.hosted();
        this.index = storage.index();
        this.blobs = blobs;
        this.manifests = storage.manifests();
        this.tags = storage.tags();
        this.repositories = storage.repositories();
        this.router = router;
        this.clock = clock;
    }

    /** Imports the tar at {@code file}; a bad archive is an {@link InvalidRequestException} and changes nothing. */
    public List<Imported> run(Path file) throws IOException {
        ArchiveEntries entries = ArchiveEntries.read(file);
        Map<String, Digest> needed = new HashMap<>();
        List<Image> images = entries.named("index.json").isPresent()
                ? fromIndex(entries, needed) : fromDockerManifest(entries, needed);
        Map<Digest, Long> content = content(entries, images, needed);
        checkFits(content);
        content.keySet().forEach(index::pin);
        try {
            writeBlobs(file, needed);
            List<Imported> imported = new ArrayList<>();
            for (Image image : images) {
                for (ManifestBytes child : image.children()) {
                    manifests.add(child);
                }
                manifests.add(image.top());
                if (image.route().hosted()) {
                    host(image);
                } else {
                    image.children().forEach(child -> links.linkManifest(image.route(), child));
                    links.linkManifest(image.route(), image.top());
                    repositories.add(image.route());
                    if (image.tag().isPresent()) {
                        tags.put(image.route(), image.tag().get(),
                                new TagStore.Resolution(image.top().digest(), clock.instant()));
                    }
                }
                imported.add(new Imported(image.route().toString(), image.tag().map(Tag::value).orElse(null),
                        image.top().digest(), image.bytes()));
            }
            return imported;
        } finally {
            content.keySet().forEach(index::unpin);
        }
    }

    /**
     * Puts an image named under a hosted name into its hosted repository, as pushing it would:
     * its blobs and manifests linked (so retained, never evicted or purged), then its tag.
     */
    private void host(Image image) throws IOException {
        HostedStore store = hosted.orElseThrow(() -> new IllegalStateException(image.route() + " is not hosted here"));
        Lock lock = store.pushLock().readLock();
        lock.lock();
        try {
            List<ManifestBytes> all = new ArrayList<>(image.children());
            all.add(image.top());
            for (ManifestBytes manifest : all) {
                for (Descriptor blob : Manifests.blobsOf(manifest.bytes())) {
                    store.linkBlob(image.route(), blob.digest());
                }
                store.linkManifest(image.route(), manifest.digest());
            }
            if (image.tag().isPresent()) {
                store.tag(image.route(), image.tag().get(), image.top().digest());
            }
        } finally {
            lock.unlock();
        }
    }

    /** Every distinct blob and manifest the import puts in the cache, with its size. */
    private static Map<Digest, Long> content(ArchiveEntries entries, List<Image> images, Map<String, Digest> needed) {
        Map<Digest, Long> content = new LinkedHashMap<>();
        needed.forEach((name, digest) -> content.put(digest, entries.named(name).orElseThrow().size()));
        for (Image image : images) {
            content.put(image.top().digest(), (long) image.top().size());
            image.children().forEach(child -> content.put(child.digest(), (long) child.size()));
        }
        return content;
    }

    /**
     * Refuses, as 400 BODY_INVALID, an import whose content alone exceeds {@code cache.max-size}:
     * its blobs are pinned until its tags are recorded, and unpinned they would be evicted again.
     */
    private void checkFits(Map<Digest, Long> content) {
        long total = content.values().stream().mapToLong(Long::longValue).sum();
        if (index.maxBytes() > 0 && total > index.maxBytes()) {
            throw new InvalidRequestException(RegistryErrorCode.BODY_INVALID, "the archive's images hold " + total
                    + " bytes, more than the cache may hold (cache.max-size is " + index.maxBytes()
                    + " bytes): raise regmirror.cache.max-size or import fewer images at once");
        }
    }

    private List<Image> fromIndex(ArchiveEntries entries, Map<String, Digest> needed) {
        JsonNode index = json(entries, "index.json");
        List<Image> images = new ArrayList<>();
        for (JsonNode entry : index.path("manifests")) {
            Digest digest = digest(entry.path("digest").asText(), "index.json");
            JsonNode annotations = entry.path("annotations");
            String name = annotations.path(IMAGE_NAME).asText("");
            String refName = annotations.path(REF_NAME).asText("");
            if (name.isEmpty() && (refName.contains("/") || refName.contains(":"))) {
                name = refName;
            }
            if (name.isEmpty()) {
                throw ArchiveEntries.bad("index.json names " + digest + " without an image name (annotation "
                        + IMAGE_NAME + "), so there is no repository to import it into");
            }
            ManifestBytes top = manifest(entries, digest, entry.path("mediaType").asText(""));
            long bytes = top.size();
            List<ManifestBytes> children = new ArrayList<>();
            if (MediaTypes.isIndex(top.mediaType())) {
                for (Descriptor child : Manifests.indexEntries(top.bytes())) {
                    if (entries.withDigest(child.digest()).isPresent()) {
                        ManifestBytes manifest = manifest(entries, child.digest(), child.mediaType());
                        children.add(manifest);
                        bytes += manifest.size() + blobsOf(entries, manifest, needed);
                    }
                }
                if (children.isEmpty()) {
                    throw ArchiveEntries.bad("the archive holds none of the manifests of index " + digest);
                }
            } else {
                bytes += blobsOf(entries, top, needed);
            }
            images.add(image(name, top, children, bytes));
        }
        if (images.isEmpty()) {
            throw ArchiveEntries.bad("index.json lists no images");
        }
        return images;
    }

    private List<Image> fromDockerManifest(ArchiveEntries entries, Map<String, Digest> needed) {
        if (entries.named("manifest.json").isEmpty()) {
            throw ArchiveEntries.bad("the archive has neither index.json nor manifest.json: not an image archive");
        }
        List<Image> images = new ArrayList<>();
        for (JsonNode item : json(entries, "manifest.json")) {
            Entry config = file(entries, item.path("Config").asText(""));
            List<Entry> layers = new ArrayList<>();
            for (JsonNode layer : item.path("Layers")) {
                layers.add(file(entries, layer.asText("")));
            }
            boolean zstd = layers.stream().anyMatch(layer -> layer.compression() == Compression.ZSTD);
            ObjectNode manifest = JSON.createObjectNode();
            manifest.put("schemaVersion", 2);
            manifest.put("mediaType", zstd ? MediaTypes.OCI_MANIFEST : MediaTypes.DOCKER_MANIFEST);
            descriptor(manifest.putObject("config"), zstd ? "application/vnd.oci.image.config.v1+json"
                    : "application/vnd.docker.container.image.v1+json", config);
            long bytes = config.size();
            needed.put(config.name(), config.digest());
            for (Entry layer : layers) {
                descriptor(manifest.withArray("layers").addObject(), layerType(layer.compression(), zstd), layer);
                needed.put(layer.name(), layer.digest());
                bytes += layer.size();
            }
            byte[] manifestBytes;
            try {
                manifestBytes = JSON.writeValueAsBytes(manifest);
            } catch (IOException e) {
                throw new IllegalStateException("cannot serialize a manifest", e);
            }
            ManifestBytes top = new ManifestBytes(manifest.path("mediaType").asText(), Digest.sha256Of(manifestBytes),
                    manifestBytes);
            if (item.path("RepoTags").isEmpty()) {
                throw ArchiveEntries.bad("manifest.json lists an image without RepoTags, so there is no repository"
                        + " to import it into");
            }
            for (JsonNode repoTag : item.path("RepoTags")) {
                images.add(image(repoTag.asText(""), top, List.of(), bytes + top.size()));
            }
        }
        if (images.isEmpty()) {
            throw ArchiveEntries.bad("manifest.json lists no images");
        }
        return images;
    }

    /**
     * Routes the image name the archive gives its manifest, an {@link ImageReference}, as a client's
     * pull would be. No tag and no digest means {@code latest}; with a digest the name must name
     * this manifest (else 400 MANIFEST_INVALID: the name's tag and digest contradict the archive),
     * and a tag beside it is recorded as pointing here.
     */
    private Image image(String name, ManifestBytes top, List<ManifestBytes> children, long bytes) {
        ImageReference image;
        try {
            image = ImageReference.parse(name).withDefaultTag();
        } catch (InvalidRequestException e) {
            throw ArchiveEntries.bad("the archive names an image " + Printable.of(name)
                    + " that is not a valid reference: " + e.getMessage());
        }
        if (image.digest().isPresent() && !image.digest().get().equals(top.digest())) {
            throw ArchiveEntries.bad("the archive names manifest " + top.digest() + " \"" + Printable.of(name)
                    + "\", whose digest is another manifest's" + image.tag().map(tag -> " (the digest decides, so tag "
                    + tag + " cannot be recorded for it)").orElse(""));
        }
        return new Image(router.route(image), image.tag(), top, children, bytes);
    }

    private static ManifestBytes manifest(ArchiveEntries entries, Digest digest, String declaredType) {
        Entry entry = entries.withDigest(digest).orElseThrow(() ->
                ArchiveEntries.bad("the archive lacks manifest " + digest));
        if (entry.bytes() == null) {
            throw ArchiveEntries.bad("manifest " + digest + " is larger than " + ArchiveEntries.KEEP_LIMIT + " bytes");
        }
        Optional<String> detected = Manifests.detectMediaType(entry.bytes());
        if (!declaredType.isEmpty() && !detected.equals(Optional.of(declaredType))) {
            throw ArchiveEntries.bad("manifest " + digest + " is declared as \"" + Printable.of(declaredType)
                    + "\" but its content is " + detected.map(type -> "\"" + Printable.of(type) + "\"")
                    .orElse("not a manifest"));
        }
        String mediaType = detected.orElse("");
        if (!MediaTypes.isIndex(mediaType) && !MediaTypes.OCI_MANIFEST.equals(mediaType)
                && !MediaTypes.DOCKER_MANIFEST.equals(mediaType)) {
            throw ArchiveEntries.bad("manifest " + digest + " is of type \"" + Printable.of(mediaType)
                    + "\"; import takes OCI and Docker schema 2 manifests and indexes");
        }
        return new ManifestBytes(mediaType, digest, entry.bytes());
    }

    /** Adds the image manifest's blobs to {@code needed}, each checked to be in the archive; returns their bytes. */
    private static long blobsOf(ArchiveEntries entries, ManifestBytes manifest, Map<String, Digest> needed) {
        long bytes = 0;
        for (Descriptor blob : Manifests.blobsOf(manifest.bytes())) {
            Entry entry = entries.withDigest(blob.digest()).orElseThrow(() -> ArchiveEntries.bad(
                    "the archive lacks blob " + blob.digest() + " of manifest " + manifest.digest()));
            if (blob.size() >= 0 && blob.size() != entry.size()) {
                throw ArchiveEntries.bad("blob " + blob.digest() + " has " + entry.size() + " bytes in the archive where"
                        + " manifest " + manifest.digest() + " says " + blob.size());
            }
            needed.put(entry.name(), blob.digest());
            bytes += entry.size();
        }
        return bytes;
    }

    /** Streams each needed blob from the tar through the store's verifying ingest. */
    private void writeBlobs(Path file, Map<String, Digest> needed) throws IOException {
        Map<String, Digest> left = new LinkedHashMap<>(needed);
        byte[] buffer = new byte[256 * 1024];
        try (TarArchiveInputStream tar = ArchiveEntries.open(file)) {
            TarArchiveEntry entry;
            while (!left.isEmpty() && (entry = ArchiveEntries.next(tar)) != null) {
                String name = entry.isSymbolicLink() || entry.isLink() ? null : ArchiveEntries.checkedName(entry);
                Digest digest = name == null ? null : left.remove(name);
                if (digest == null || blobs.find(digest).isPresent() || left.containsValue(digest)) {
                    continue;
                }
                write(tar, digest, entry.getSize(), buffer);
            }
        }
    }

    private void write(InputStream in, Digest digest, long size, byte[] buffer) throws IOException {
        try (BlobIngest ingest = blobs.begin(digest, size)) {
            int n;
            while ((n = in.read(buffer)) > 0) {
                ingest.write(ByteBuffer.wrap(buffer, 0, n));
            }
            ingest.commit();
        }
    }

    private static void descriptor(ObjectNode node, String mediaType, Entry entry) {
        node.put("mediaType", mediaType);
        node.put("size", entry.size());
        node.put("digest", entry.digest().toString());
    }

    private static String layerType(Compression compression, boolean oci) {
        return switch (compression) {
            case GZIP -> oci ? "application/vnd.oci.image.layer.v1.tar+gzip" : "application/vnd.docker.image.rootfs.diff.tar.gzip";
            case ZSTD -> "application/vnd.oci.image.layer.v1.tar+zstd";
            case NONE -> oci ? "application/vnd.oci.image.layer.v1.tar" : "application/vnd.docker.image.rootfs.diff.tar";
        };
    }

    private static Entry file(ArchiveEntries entries, String name) {
        return entries.named(name).orElseThrow(() -> ArchiveEntries.bad("manifest.json names "
                + Printable.of(name) + ", which the archive lacks"));
    }

    private static JsonNode json(ArchiveEntries entries, String name) {
        Entry entry = file(entries, name);
        try {
            if (entry.bytes() == null) {
                throw new IOException("too large");
            }
            return JSON.readTree(entry.bytes());
        } catch (IOException e) {
            throw ArchiveEntries.bad(name + " in the archive is not JSON: " + e.getMessage());
        }
    }

    private static Digest digest(String value, String where) {
        try {
            return Digest.parse(value);
        } catch (InvalidRequestException e) {
            throw ArchiveEntries.bad(where + " names an invalid digest \"" + Printable.of(value) + "\"");
        }
    }
}
