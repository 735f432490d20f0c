package dev.regmirror.server.admin;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.regmirror.core.admin.ImageCatalog;
import dev.regmirror.core.cache.CacheIndex;
import dev.regmirror.core.error.InvalidRequestException;
import dev.regmirror.core.error.RegistryErrorCode;
import dev.regmirror.core.manifest.Descriptor;
import dev.regmirror.core.manifest.Manifests;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.storage.CachedManifests;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * One cached image for {@code GET /admin/image}: its platforms (an index's entries, or the manifest
 * alone), each platform's config and layers with whether they are cached, and for each blob the
 * other tagged images that use it too (what purging this image would leave in place). Reads every
 * tagged manifest: call from the disk executor.
 */
final class ImageDetails {

    private final ImageCatalog catalog;
    private final CachedManifests manifests;
    private final CacheIndex index;

    ImageDetails(ImageCatalog catalog, CachedManifests manifests, CacheIndex index) {
        this.catalog = catalog;
        this.manifests = manifests;
        this.index = index;
    }

    /** @throws InvalidRequestException 404 MANIFEST_UNKNOWN when the manifest is not cached */
    ObjectNode describe(String repository, Digest digest, ObjectMapper mapper) throws IOException {
        byte[] bytes = manifests.bytes(digest).orElseThrow(() -> new InvalidRequestException(
                RegistryErrorCode.MANIFEST_UNKNOWN, "manifest " + digest + " of " + repository + " is not cached"));
        ObjectNode body = mapper.createObjectNode();
        body.put("repository", repository);
        body.put("digest", digest.toString());
        body.put("mediaType", Manifests.detectMediaType(bytes).orElse(null));
        List<Descriptor> entries = Manifests.indexEntries(bytes);
        Map<Descriptor, List<Descriptor>> platforms = new LinkedHashMap<>();
        if (entries.isEmpty()) {
            platforms.put(new Descriptor(Manifests.detectMediaType(bytes).orElse(null), digest, bytes.length, null),
                    Manifests.blobsOf(bytes));
        } else {
            for (Descriptor entry : entries) {
                platforms.put(entry, manifests.bytes(entry.digest()).map(Manifests::blobsOf).orElse(null));
            }
        }
        Set<Digest> wanted = new HashSet<>();
        platforms.values().stream().filter(Objects::nonNull).forEach(blobs -> blobs.forEach(
                blob -> wanted.add(blob.digest())));
        Map<Digest, Set<String>> sharers = sharers(wanted, repository, digest);
        ArrayNode list = body.putArray("platforms");
        for (Map.Entry<Descriptor, List<Descriptor>> platform : platforms.entrySet()) {
            ObjectNode entry = list.addObject();
            Descriptor manifest = platform.getKey();
            entry.put("platform", manifest.platform() == null ? null : manifest.platform().toString());
            entry.put("digest", manifest.digest().toString());
            entry.put("cached", platform.getValue() != null);
            ArrayNode blobs = entry.putArray("blobs");
            for (Descriptor blob : Optional.ofNullable(platform.getValue()).orElse(List.of())) {
                ObjectNode json = blobs.addObject();
                json.put("digest", blob.digest().toString());
                json.put("kind", isConfig(blob) ? "config" : "layer");
                json.put("mediaType", blob.mediaType());
                json.put("size", blob.size());
                json.put("cached", index.contains(blob.digest()));
                ArrayNode shared = json.putArray("sharedWith");
                sharers.getOrDefault(blob.digest(), Set.of()).forEach(shared::add);
            }
        }
        return body;
    }

    private static boolean isConfig(Descriptor blob) {
        String type = blob.mediaType() == null ? "" : blob.mediaType();
        return type.contains("config") || type.equals("application/vnd.docker.container.image.v1+json");
    }

    /** For each wanted blob, the tagged images ({@code repository:tag}) other than this one using it. */
    private Map<Digest, Set<String>> sharers(Set<Digest> wanted, String repository, Digest digest) throws IOException {
        Map<Digest, Set<String>> sharers = new HashMap<>();
        for (ImageCatalog.Repository other : catalog.all()) {
            for (ImageCatalog.TaggedImage image : other.tags()) {
                if (other.name().equals(repository) && image.digest().equals(digest)) {
                    continue;
                }
                for (Digest blob : blobsOfImage(image.digest())) {
                    if (wanted.contains(blob)) {
                        sharers.computeIfAbsent(blob, key -> new TreeSet<>()).add(other.name() + ":" + image.tag());
                    }
                }
            }
        }
        return sharers;
    }

    private Set<Digest> blobsOfImage(Digest digest) throws IOException {
        Set<Digest> blobs = new LinkedHashSet<>();
        Optional<byte[]> bytes = manifests.bytes(digest);
        if (bytes.isEmpty()) {
            return blobs;
        }
        Manifests.blobsOf(bytes.get()).forEach(blob -> blobs.add(blob.digest()));
        List<Descriptor> children = new ArrayList<>(Manifests.indexEntries(bytes.get()));
        for (Descriptor child : children) {
            Optional<byte[]> childBytes = manifests.bytes(child.digest());
            childBytes.ifPresent(value -> Manifests.blobsOf(value).forEach(blob -> blobs.add(blob.digest())));
        }
        return blobs;
    }
}
