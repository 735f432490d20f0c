package dev.regmirror.core.admin;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.regmirror.core.manifest.Descriptor;
import dev.regmirror.core.manifest.ManifestBytes;
import dev.regmirror.core.manifest.Manifests;
import dev.regmirror.core.manifest.MediaTypes;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.reference.ImageReference;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Writes an image with its original digests as Docker 25's {@code docker save} does: an OCI image
 * layout that is also a docker-archive ({@code manifest.json}, {@code repositories}), or only the
 * OCI layout; what {@code regmirror export} and {@code GET /admin/export} both write. {@link #plan}
 * reads the manifests and chooses the platform, {@link #write} streams the blobs, so a caller can
 * check that every blob is there in between.
 */
public final class ImageArchiveWriter {

    /** What to write. */
    public enum Format { DOCKER, OCI }

    public static final String IMAGE_NAME = "io.containerd.image.name";
    public static final String REF_NAME = "org.opencontainers.image.ref.name";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Where manifests and blobs come from: the mirror's registry API, or the cache. */
    public interface Source {
        /** The manifest with this digest; absent fails with a {@link Refused} or an I/O error. */
        ManifestBytes manifest(Digest digest) throws IOException, InterruptedException;

        /** The blob's bytes, {@code size} of them; the writer closes the stream. */
        InputStream blob(Digest digest, long size) throws IOException, InterruptedException;
    }

    /** The image cannot be exported as asked; the message says why, for a user. */
    public static final class Refused extends IOException {
        public Refused(String message) {
            super(message);
        }
    }

    /**
     * What an export writes: the manifest the layout names ({@code named}), the platform chosen
     * from an index, and the image manifests whose blobs go in.
     */
    public record Plan(ImageReference reference, Format format, ManifestBytes top, ManifestBytes named,
                       Optional<String> platform, List<ManifestBytes> images) {
        public Plan {
            Objects.requireNonNull(reference, "reference");
            Objects.requireNonNull(format, "format");
            Objects.requireNonNull(top, "top");
            Objects.requireNonNull(named, "named");
            Objects.requireNonNull(platform, "platform");
            images = List.copyOf(images);
        }

        /** Every blob the images reference, each once, in the order they are written. */
        public List<Descriptor> blobs() {
            Map<Digest, Descriptor> blobs = new LinkedHashMap<>();
            for (ManifestBytes image : images) {
                Manifests.blobsOf(image.bytes()).forEach(blob -> blobs.putIfAbsent(blob.digest(), blob));
            }
            return List.copyOf(blobs.values());
        }
    }

    private ImageArchiveWriter() {
    }

    /**
     * Reads the manifests of {@code reference}, whose top manifest is {@code top}: from an index the
     * entry for {@code platform} (a {@code /v8} variant too), else the first, telling {@code notices}
     * so; with {@code all} (OCI only) every entry.
     */
    public static Plan plan(ImageReference reference, ManifestBytes top, Format format, String platform, boolean all,
                            Source source, Consumer<String> notices) throws IOException, InterruptedException {
        List<ManifestBytes> images = new ArrayList<>();
        ManifestBytes named = top;
        Optional<String> chosen = Optional.empty();
        if (MediaTypes.isIndex(top.mediaType())) {
            List<Descriptor> entries = Manifests.indexEntries(top.bytes());
            if (all) {
                for (Descriptor entry : entries) {
                    images.add(source.manifest(entry.digest()));
                }
            } else {
                Descriptor entry = choose(entries, reference, platform, notices);
                chosen = Optional.of(entry.platform() == null ? "no platform" : entry.platform().toString());
                named = source.manifest(entry.digest());
                images.add(named);
            }
        } else {
            images.add(top);
        }
        for (ManifestBytes manifest : images) {
            if (!MediaTypes.OCI_MANIFEST.equals(manifest.mediaType()) && !MediaTypes.DOCKER_MANIFEST.equals(manifest.mediaType())) {
                throw new Refused(reference + " " + manifest.digest() + " is a " + manifest.mediaType()
                        + ", which export does not write (only OCI and Docker schema 2 images)");
            }
            for (Descriptor blob : Manifests.blobsOf(manifest.bytes())) {
                if (blob.size() < 0) {
                    throw new Refused("manifest " + manifest.digest() + " gives no size for " + blob.digest());
                }
            }
        }
        return new Plan(reference, format, top, named, chosen, images);
    }

    /** Writes the plan's blobs, manifests and top files into {@code archive}; returns the bytes of blobs and manifests. */
    public static long write(Plan plan, Source source, ImageArchive archive) throws IOException, InterruptedException {
        long bytes = 0;
        for (ManifestBytes manifest : plan.images()) {
            for (Descriptor blob : Manifests.blobsOf(manifest.bytes())) {
                if (archive.has(blob.digest())) {
                    continue; // a layer the platforms share
                }
                archive.blob(blob.digest(), blob.size(), source.blob(blob.digest(), blob.size()));
                bytes += blob.size();
            }
            archive.blob(manifest.digest(), manifest.bytes());
            bytes += manifest.size();
        }
        ManifestBytes top = plan.top();
        if (plan.named() == top && MediaTypes.isIndex(top.mediaType())) {
            archive.blob(top.digest(), top.bytes());
            bytes += top.size();
        }
        archive.file("oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}".getBytes(StandardCharsets.UTF_8));
        archive.file("index.json", JSON.writeValueAsBytes(index(plan.named(), plan.reference())));
        if (plan.format() == Format.DOCKER) {
            archive.file("manifest.json", JSON.writeValueAsBytes(dockerManifest(plan.named(), plan.reference())));
            archive.file("repositories", JSON.writeValueAsBytes(repositories(plan.named(), plan.reference())));
        }
        return bytes;
    }

    /** The entry for {@code platform}, else the first, saying so. */
    private static Descriptor choose(List<Descriptor> entries, ImageReference reference, String platform,
                                     Consumer<String> notices) throws Refused {
        if (entries.isEmpty()) {
            throw new Refused(reference + " is an empty index");
        }
        for (Descriptor entry : entries) {
            if (entry.platform() != null && platform.equals(entry.platform().toString())) {
                return entry;
            }
        }
        for (Descriptor entry : entries) {
            if (entry.platform() != null && (platform + "/v8").equals(entry.platform().toString())) {
                return entry;
            }
        }
        Descriptor first = entries.get(0);
        notices.accept(reference + " has no " + platform + " image; exporting "
                + (first.platform() == null ? "its first entry" : first.platform().toString()));
        return first;
    }

    private static ObjectNode index(ManifestBytes named, ImageReference reference) {
        ObjectNode index = JSON.createObjectNode();
        index.put("schemaVersion", 2);
        index.put("mediaType", MediaTypes.OCI_INDEX);
        ObjectNode entry = index.putArray("manifests").addObject();
        entry.put("mediaType", named.mediaType());
        entry.put("digest", named.digest().toString());
        entry.put("size", named.size());
        ObjectNode annotations = entry.putObject("annotations");
        annotations.put(IMAGE_NAME, reference.name() + reference.tag().map(t -> ":" + t.value())
                .orElseGet(() -> "@" + reference.digest().orElseThrow()));
        reference.tag().ifPresent(tag -> annotations.put(REF_NAME, tag.value()));
        return index;
    }

    private static ArrayNode dockerManifest(ManifestBytes manifest, ImageReference reference) {
        ArrayNode items = JSON.createArrayNode();
        ObjectNode item = items.addObject();
        List<Descriptor> blobs = Manifests.blobsOf(manifest.bytes());
        item.put("Config", ImageArchive.blobPath(blobs.get(0).digest()));
        ArrayNode tags = item.putArray("RepoTags");
        reference.tag().ifPresent(tag -> tags.add(reference.name() + ":" + tag.value()));
        ArrayNode layers = item.putArray("Layers");
        blobs.subList(1, blobs.size()).forEach(layer -> layers.add(ImageArchive.blobPath(layer.digest())));
        return items;
    }

    /** The legacy {@code repositories} file: each tag to its top layer's id. */
    private static ObjectNode repositories(ManifestBytes manifest, ImageReference reference) {
        ObjectNode repositories = JSON.createObjectNode();
        List<Descriptor> blobs = Manifests.blobsOf(manifest.bytes());
        reference.tag().ifPresent(tag -> repositories.putObject(reference.name())
                .put(tag.value(), blobs.get(blobs.size() - 1).digest().hex()));
        return repositories;
    }
}
