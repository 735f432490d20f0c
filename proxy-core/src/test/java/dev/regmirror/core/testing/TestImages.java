package dev.regmirror.core.testing;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.regmirror.core.manifest.Descriptor;
import dev.regmirror.core.manifest.Descriptor.Platform;
import dev.regmirror.core.reference.Digest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;

/**
 * Writes images of deterministic pseudo-random layers where skopeo can read them: OCI images into an
 * <a href="https://github.com/opencontainers/image-spec/blob/main/image-layout.md">OCI image layout</a>
 * ({@code oci:<dir>:<tag>}), Docker schema 2 images into skopeo's {@code dir:<dir>/<tag>} format,
 * because skopeo's {@code oci:} transport only resolves tags of OCI media types.
 *
 * <p>Equal arguments give byte-identical blobs and manifests; the format only changes media types,
 * so an OCI and a Docker image of one seed share their config and layers. One {@code dir} may hold
 * several tags; writing a tag again replaces it. Copying {@link BuiltImage#source()} to a registry
 * with skopeo (with {@code --all} for an index) keeps every digest.
 */
public final class TestImages {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String REF_NAME = "org.opencontainers.image.ref.name";

    private TestImages() {
    }

    /** A linux/amd64 OCI image of {@code layers} layers, each a file of {@code layerSize} random bytes. */
    public static BuiltImage singleArch(Path dir, String tag, int layers, int layerSize, long seed) {
        return singleArch(dir, tag, layers, layerSize, seed, ImageFormat.OCI);
    }

    public static BuiltImage singleArch(Path dir, String tag, int layers, int layerSize, long seed,
                                        ImageFormat format) {
        Path root = root(dir, tag, format);
        BuiltManifest manifest = writeManifest(root, platform("linux/amd64"), 0, layers, layerSize, seed, format, false);
        return finish(dir, tag, format, manifest.manifest(), List.of(manifest));
    }

    /** An OCI index with one image per platform (like {@code linux/arm64/v8}); see the other overload. */
    public static BuiltImage multiArch(Path dir, String tag, List<String> platforms, int layers, int layerSize,
                                       long seed) {
        return multiArch(dir, tag, platforms, layers, layerSize, seed, ImageFormat.OCI);
    }

    /**
     * An index with one image of {@code layers} layers per platform; the first layer is the same
     * blob in every image (a shared base), the others differ per platform.
     */
    public static BuiltImage multiArch(Path dir, String tag, List<String> platforms, int layers, int layerSize,
                                       long seed, ImageFormat format) {
        Path root = root(dir, tag, format);
        List<BuiltManifest> manifests = new ArrayList<>();
        for (int i = 0; i < platforms.size(); i++) {
            manifests.add(writeManifest(root, platform(platforms.get(i)), i + 1, layers, layerSize, seed, format, true));
        }
        Map<String, Object> index = new LinkedHashMap<>();
        index.put("schemaVersion", 2);
        index.put("mediaType", format.indexType());
        index.put("manifests", manifests.stream().map(m -> descriptorJson(m.manifest())).toList());
        Descriptor top = writeManifestFile(root, format, format.indexType(), json(index), null, false);
        return finish(dir, tag, format, top, manifests);
    }

    /** Platform {@code p} (1-based; 0 for a single-arch image) gets layer 0 shared and the rest its own. */
    private static BuiltManifest writeManifest(Path root, Platform platform, int p, int layerCount, int layerSize,
                                               long seed, ImageFormat format, boolean inIndex) {
        if (layerCount < 1 || layerSize < 0) {
            throw new IllegalArgumentException("need at least one layer and a size >= 0");
        }
        List<Descriptor> layers = new ArrayList<>();
        List<Digest> diffIds = new ArrayList<>();
        for (int i = 0; i < layerCount; i++) {
            long salt = i == 0 ? 0 : p * 1_000L + i;
            byte[] content = new byte[layerSize];
            new Random(seed * 1_000_003L + salt).nextBytes(content);
            byte[] tar = TarGz.tarOfOneFile("layer-" + salt + ".bin", content);
            diffIds.add(Digest.sha256Of(tar));
            layers.add(writeBlob(blobFile(root, format), format.layerType(), TarGz.gzip(tar), null));
        }
        Descriptor config = writeBlob(blobFile(root, format), format.configType(), json(config(platform, diffIds)), null);
        Map<String, Object> manifest = new LinkedHashMap<>();
        manifest.put("schemaVersion", 2);
        manifest.put("mediaType", format.manifestType());
        manifest.put("config", descriptorJson(config));
        manifest.put("layers", layers.stream().map(TestImages::descriptorJson).toList());
        Descriptor written = writeManifestFile(root, format, format.manifestType(), json(manifest), platform, inIndex);
        return new BuiltManifest(written, config, layers, diffIds);
    }

    private static Map<String, Object> config(Platform platform, List<Digest> diffIds) {
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("created", "1970-01-01T00:00:00Z");
        config.put("architecture", platform.architecture());
        config.put("os", platform.os());
        if (platform.variant() != null) {
            config.put("variant", platform.variant());
        }
        config.put("config", Map.of("Cmd", List.of("/bin/true")));
        Map<String, Object> rootfs = new LinkedHashMap<>();
        rootfs.put("type", "layers");
        rootfs.put("diff_ids", diffIds.stream().map(Digest::toString).toList());
        config.put("rootfs", rootfs);
        return config;
    }

    /** Where the blobs of a tag go: the OCI layout itself, or a {@code dir:} directory per tag. */
    private static Path root(Path dir, String tag, ImageFormat format) {
        if (!tag.matches("[\\w][\\w.-]{0,127}")) {
            throw new IllegalArgumentException("not a tag: " + tag);
        }
        return format == ImageFormat.OCI ? dir : dir.resolve(tag);
    }

    /** OCI layouts keep blobs under {@code blobs/sha256/<hex>}; skopeo's {@code dir:} as {@code <hex>}. */
    private static Function<Digest, Path> blobFile(Path root, ImageFormat format) {
        return format == ImageFormat.OCI
                ? digest -> root.resolve("blobs").resolve(digest.algorithm()).resolve(digest.hex())
                : digest -> root.resolve(digest.hex());
    }

    /** A manifest is a blob in an OCI layout; {@code dir:} has {@code manifest.json} and {@code <hex>.manifest.json}. */
    private static Descriptor writeManifestFile(Path root, ImageFormat format, String mediaType, byte[] bytes,
                                                Platform platform, boolean inIndex) {
        Function<Digest, Path> file = format == ImageFormat.OCI ? blobFile(root, format)
                : inIndex ? digest -> root.resolve(digest.hex() + ".manifest.json")
                : digest -> root.resolve("manifest.json");
        return writeBlob(file, mediaType, bytes, platform);
    }

    private static Descriptor writeBlob(Function<Digest, Path> fileOf, String mediaType, byte[] bytes,
                                        Platform platform) {
        Digest digest = Digest.sha256Of(bytes);
        Path file = fileOf.apply(digest);
        try {
            Files.createDirectories(file.getParent());
            Files.write(file, bytes);
        } catch (IOException e) {
            throw new UncheckedIOException("write " + digest + " to " + file, e);
        }
        return new Descriptor(mediaType, digest, bytes.length, platform);
    }

    private static BuiltImage finish(Path dir, String tag, ImageFormat format, Descriptor top,
                                     List<BuiltManifest> manifests) {
        if (format == ImageFormat.OCI) {
            tagInIndex(dir, tag, top);
            return new BuiltImage("oci:" + dir + ":" + tag, tag, top, manifests);
        }
        Path root = root(dir, tag, format);
        try {
            Files.writeString(root.resolve("version"), "Directory Transport Version: 1.1\n");
        } catch (IOException e) {
            throw new UncheckedIOException("write " + root.resolve("version"), e);
        }
        return new BuiltImage("dir:" + root, tag, top, manifests);
    }

    /** Points {@code tag} of the layout's {@code index.json} at {@code top}, keeping other tags. */
    private static void tagInIndex(Path dir, String tag, Descriptor top) {
        Path indexFile = dir.resolve("index.json");
        try {
            Files.writeString(dir.resolve("oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
            ObjectNode index = Files.exists(indexFile)
                    ? (ObjectNode) JSON.readTree(indexFile.toFile())
                    : JSON.createObjectNode().put("schemaVersion", 2);
            ArrayNode entries = JSON.createArrayNode();
            index.withArray("manifests").forEach(entry -> {
                if (!tag.equals(entry.path("annotations").path(REF_NAME).asText())) {
                    entries.add(entry);
                }
            });
            Map<String, Object> entry = descriptorJson(top);
            entry.put("annotations", Map.of(REF_NAME, tag));
            entries.add(JSON.valueToTree(entry));
            index.set("manifests", entries);
            Files.write(indexFile, JSON.writeValueAsBytes(index));
        } catch (IOException e) {
            throw new UncheckedIOException("tag " + tag + " in " + indexFile, e);
        }
    }

    private static Map<String, Object> descriptorJson(Descriptor descriptor) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("mediaType", descriptor.mediaType());
        json.put("digest", descriptor.digest().toString());
        json.put("size", descriptor.size());
        Platform platform = descriptor.platform();
        if (platform != null) {
            Map<String, Object> p = new LinkedHashMap<>();
            p.put("architecture", platform.architecture());
            p.put("os", platform.os());
            if (platform.variant() != null) {
                p.put("variant", platform.variant());
            }
            json.put("platform", p);
        }
        return json;
    }

    /** Parses {@code os/arch[/variant]}. */
    static Platform platform(String value) {
        String[] parts = value.split("/");
        if (parts.length < 2 || parts.length > 3) {
            throw new IllegalArgumentException("platform is not os/arch[/variant]: " + value);
        }
        return new Platform(parts[0], parts[1], parts.length == 3 ? parts[2] : null);
    }

    private static byte[] json(Object value) {
        try {
            return JSON.writeValueAsBytes(value);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
