package dev.regmirror.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.regmirror.core.error.InvalidRequestException;
import dev.regmirror.core.manifest.Descriptor;
import dev.regmirror.core.manifest.ManifestBytes;
import dev.regmirror.core.manifest.Manifests;
import dev.regmirror.core.manifest.MediaTypes;
import dev.regmirror.core.reference.ImageReference;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code regmirror export IMAGE -o FILE}: reads an image through the mirror's registry API (so the
 * cache answers what it has and the mirror pulls the rest) and writes it with its original digests,
 * as Docker 25's {@code docker save} does: an OCI image layout that is also a docker-archive
 * ({@code manifest.json}, {@code repositories}); or, with {@code --format oci}, only the OCI layout,
 * into a directory or, for a {@code .tar} name, an oci-archive.
 */
@Command(name = "export", mixinStandardHelpOptions = true,
        description = "Write an image to a tar that docker load reads (or an OCI layout with --format oci), "
                + "with its original digests; what the cache lacks is pulled through the mirror.")
final class ExportCommand implements Callable<Integer> {

    /** What to write. */
    enum Format { docker, oci }

    static final String IMAGE_NAME = "io.containerd.image.name";
    static final String REF_NAME = "org.opencontainers.image.ref.name";
    private static final ObjectMapper JSON = new ObjectMapper();

    @Parameters(index = "0", paramLabel = "IMAGE", description = "[registry/]name[:tag][@digest], as docker pull takes it; with a digest, "
            + "that is exported and a tag beside it only names it in the archive.")
    private String image;

    @Option(names = {"-o", "--file"}, paramLabel = "FILE", required = true,
            description = "The tar file to write (docker); for --format oci a directory, or an oci-archive if it ends in .tar.")
    private Path file;

    @Option(names = "--format", paramLabel = "FORMAT", defaultValue = "docker",
            description = "docker (docker load; also an OCI layout) or oci; default: ${DEFAULT-VALUE}.")
    private Format format;

    @Option(names = "--platform", paramLabel = "OS/ARCH[/VARIANT]", defaultValue = "linux/amd64",
            description = "The image to take from a multi-platform index; default: ${DEFAULT-VALUE}.")
    private String platform;

    @Option(names = "--all", description = "With --format oci: keep a multi-platform index whole, every platform.")
    private boolean all;

    @Option(names = "--registry", paramLabel = "URL", defaultValue = "${env:REGMIRROR_REGISTRY:-http://127.0.0.1:5000}",
            description = "The mirror's registry API (default: $REGMIRROR_REGISTRY or http://127.0.0.1:5000).")
    private URI registry;

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "2m", converter = StallLimit.Converter.class,
            description = "Give up when the mirror sends nothing for this long, before an answer or within a body "
                    + "(30s, 2m, 1h); default: ${DEFAULT-VALUE}.")
    private Duration timeout;

    @Override
    public Integer call() throws InterruptedException {
        ImageReference reference;
        try {
            reference = ImageReference.parse(image).withDefaultTag();
        } catch (InvalidRequestException e) {
            System.err.println("regmirror: " + e.getMessage());
            return 2;
        }
        if (all && format != Format.oci) {
            System.err.println("regmirror: --all needs --format oci (docker load takes one platform)");
            return 2;
        }
        try (StallLimit stall = new StallLimit(timeout)) {
            return export(reference, new MirrorClient(registry, stall));
        }
    }

    private int export(ImageReference reference, MirrorClient mirror) throws InterruptedException {
        boolean tar = format == Format.docker || file.getFileName().toString().endsWith(".tar");
        ImageArchive archive;
        try {
            archive = tar ? ImageArchive.tar(file) : ImageArchive.directory(file);
        } catch (java.nio.file.FileAlreadyExistsException e) {
            System.err.println("regmirror: " + file + " already exists" + (tar ? "" : " and is not empty"));
            return 1;
        } catch (IOException e) {
            System.err.println("regmirror: cannot write " + file + ": " + e);
            return 1;
        }
        try {
            ManifestBytes top = mirror.manifest(reference.name(), reference.reference().toString());
            Written written = write(mirror, reference, top, archive);
            archive.close();
            System.out.println("exported " + reference + " (" + written.top().digest() + ", "
                    + written.platform().map(p -> p + ", ").orElse("") + Sizes.human(written.bytes()) + ") to " + file);
            return 0;
        } catch (AdminClient.Failure e) {
            archive.discard();
            System.err.println("regmirror: " + e.getMessage());
            return 1;
        } catch (IOException | RuntimeException e) {
            archive.discard();
            System.err.println("regmirror: export of " + reference + " to " + file + " failed: " + e.getMessage());
            return 1;
        }
    }

    /** The manifest the layout names, the platform chosen from an index, and the bytes written. */
    private record Written(ManifestBytes top, Optional<String> platform, long bytes) {
    }

    private Written write(MirrorClient mirror, ImageReference reference, ManifestBytes top, ImageArchive archive)
            throws AdminClient.Failure, InterruptedException, IOException {
        List<ManifestBytes> images = new ArrayList<>();
        ManifestBytes named = top;
        Optional<String> chosen = Optional.empty();
        long bytes = 0;
        if (MediaTypes.isIndex(top.mediaType())) {
            List<Descriptor> entries = Manifests.indexEntries(top.bytes());
            if (all) {
                for (Descriptor entry : entries) {
                    images.add(mirror.manifest(reference.name(), entry.digest().toString()));
                }
            } else {
                Descriptor entry = choose(entries, reference);
                chosen = Optional.of(entry.platform() == null ? "no platform" : entry.platform().toString());
                named = mirror.manifest(reference.name(), entry.digest().toString());
                images.add(named);
            }
        } else {
            images.add(top);
        }
        for (ManifestBytes manifest : images) {
            if (!MediaTypes.OCI_MANIFEST.equals(manifest.mediaType()) && !MediaTypes.DOCKER_MANIFEST.equals(manifest.mediaType())) {
                throw new AdminClient.Failure(reference + " " + manifest.digest() + " is a " + manifest.mediaType()
                        + ", which export does not write (only OCI and Docker schema 2 images)");
            }
            for (Descriptor blob : Manifests.blobsOf(manifest.bytes())) {
                if (archive.has(blob.digest())) {
                    continue; // a layer the platforms share
                }
                if (blob.size() < 0) {
                    throw new AdminClient.Failure("manifest " + manifest.digest() + " gives no size for " + blob.digest());
                }
                archive.blob(blob.digest(), blob.size(), mirror.blob(reference.name(), blob.digest()));
                bytes += blob.size();
            }
            archive.blob(manifest.digest(), manifest.bytes());
            bytes += manifest.size();
        }
        if (named == top && MediaTypes.isIndex(top.mediaType())) {
            archive.blob(top.digest(), top.bytes());
            bytes += top.size();
        }
        archive.file("oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        archive.file("index.json", JSON.writeValueAsBytes(index(named, reference)));
        if (format == Format.docker) {
            archive.file("manifest.json", JSON.writeValueAsBytes(dockerManifest(named, reference)));
            archive.file("repositories", JSON.writeValueAsBytes(repositories(named, reference)));
        }
        return new Written(named, chosen, bytes);
    }

    /** The entry for {@code --platform}, else the first, saying so. */
    private Descriptor choose(List<Descriptor> entries, ImageReference reference) throws AdminClient.Failure {
        if (entries.isEmpty()) {
            throw new AdminClient.Failure(reference + " is an empty index");
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
        System.err.println("regmirror: " + reference + " has no " + platform + " image; exporting "
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
