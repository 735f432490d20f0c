package dev.regmirror.core.manifest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.regmirror.core.error.InvalidRequestException;
import dev.regmirror.core.error.RegistryErrorCode;
import dev.regmirror.core.reference.Digest;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A manifest a client pushed, read generically as the
 * <a href="https://github.com/opencontainers/image-spec/blob/main/manifest.md">OCI image spec</a>
 * describes any artifact (an image manifest or index, a Docker schema 2 manifest or manifest list,
 * a Helm chart, a signature, an SBOM): its media type, what it references ({@code config},
 * {@code layers}, {@code manifests}), its {@code subject}, {@code artifactType} and annotations.
 * Nothing here assumes a container image: config and layer media types are whatever the pusher chose.
 *
 * @param mediaType       the manifest's media type: the {@code Content-Type} pushed, which the body's
 *                        {@code mediaType} (where it has one) must equal
 * @param artifactType    the manifest's own {@code artifactType}, if it has one
 * @param configMediaType the media type of its {@code config}, if it has one
 * @param blobs           the blobs it references (config, then layers), which the repository must hold
 * @param manifests       the manifests an index references, which the repository must hold
 * @param subject         the manifest it refers to (a signature's image), which need not exist
 * @param annotations     its top-level annotations
 */
public record PushedManifest(String mediaType, Optional<String> artifactType, Optional<String> configMediaType,
                             List<Descriptor> blobs, List<Descriptor> manifests, Optional<Descriptor> subject,
                             Map<String, String> annotations) {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    public PushedManifest {
        blobs = List.copyOf(blobs);
        manifests = List.copyOf(manifests);
        annotations = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(annotations));
    }

    /** The type a referrers list gives it: its {@code artifactType}, else its config's media type. */
    public Optional<String> effectiveArtifactType() {
        return artifactType.or(() -> configMediaType);
    }

    /**
     * Reads pushed manifest bytes. The media type is the {@code Content-Type} (its parameters dropped);
     * when none was sent, the body's {@code mediaType}, else what its shape says (an index has
     * {@code manifests}, an image manifest a {@code config}).
     *
     * @throws InvalidRequestException MANIFEST_INVALID when the bytes are not a manifest, a
     *                                 descriptor is malformed, or the body's {@code mediaType} is not
     *                                 the {@code Content-Type}
     */
    public static PushedManifest parse(byte[] bytes, Optional<String> contentType) {
        JsonNode root;
        try {
            root = MAPPER.readTree(bytes);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw invalid("the manifest is not JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw invalid("the manifest is not JSON: " + e.getMessage());
        }
        if (root == null || !root.isObject()) {
            throw invalid("the manifest is not a JSON object");
        }
        Optional<String> declared = contentType.map(MediaTypes::essence).filter(type -> !type.isEmpty());
        Optional<String> inBody = text(root, "mediaType");
        if (declared.isPresent() && inBody.isPresent() && !declared.get().equals(inBody.get())) {
            throw invalid("the manifest's mediaType " + inBody.get() + " is not its Content-Type " + declared.get());
        }
        String mediaType = declared.or(() -> inBody).or(() -> shape(root)).orElseThrow(() -> invalid(
                "the manifest has no media type: send it as Content-Type, or as mediaType in the manifest"));
        if (!mediaType.startsWith("application/") || mediaType.indexOf('/') != mediaType.lastIndexOf('/')) {
            // Served back as the Content-Type of every pull: never text/html or the like.
            throw invalid("a manifest's media type is application/<something>, not " + mediaType);
        }
        JsonNode schemaVersion = root.get("schemaVersion");
        if (schemaVersion != null && schemaVersion.isInt() && schemaVersion.intValue() == 1
                || mediaType.equals(MediaTypes.DOCKER_MANIFEST_V1) || mediaType.equals(MediaTypes.DOCKER_MANIFEST_V1_SIGNED)) {
            throw invalid("schema 1 manifests are not accepted: push schema 2 or OCI");
        }
        if (MediaTypes.isIndex(mediaType) && !root.path("manifests").isArray()) {
            throw invalid(mediaType + " needs a manifests list");
        }
        if ((mediaType.equals(MediaTypes.OCI_MANIFEST) || mediaType.equals(MediaTypes.DOCKER_MANIFEST))
                && !root.path("config").isObject()) {
            throw invalid(mediaType + " needs a config descriptor");
        }
        List<Descriptor> blobs = new ArrayList<>();
        Optional<Descriptor> config = optionalDescriptor(root, "config");
        config.ifPresent(blobs::add);
        blobs.addAll(descriptors(root, "layers"));
        return new PushedManifest(mediaType, text(root, "artifactType"), config.map(Descriptor::mediaType), blobs,
                descriptors(root, "manifests"), optionalDescriptor(root, "subject"), annotations(root.get("annotations")));
    }

    /** The media type a body without one has by its shape, as {@link Manifests#detectMediaType} guesses it. */
    private static Optional<String> shape(JsonNode root) {
        if (root.path("manifests").isArray()) {
            return Optional.of(MediaTypes.OCI_INDEX);
        }
        if (root.path("config").isObject()) {
            return Optional.of(MediaTypes.OCI_MANIFEST);
        }
        return Optional.empty();
    }

    private static Optional<Descriptor> optionalDescriptor(JsonNode root, String field) {
        JsonNode node = root.get(field);
        if (node == null || node.isNull()) {
            return Optional.empty();
        }
        return Optional.of(descriptor(node, field));
    }

    private static List<Descriptor> descriptors(JsonNode root, String field) {
        JsonNode node = root.get(field);
        if (node == null || node.isNull()) {
            return List.of();
        }
        if (!node.isArray()) {
            throw invalid(field + " is not a list of descriptors");
        }
        List<Descriptor> found = new ArrayList<>();
        for (int i = 0; i < node.size(); i++) {
            found.add(descriptor(node.get(i), field + "[" + i + "]"));
        }
        return found;
    }

    /** A descriptor: mediaType, digest and size are required, as the image spec says. */
    private static Descriptor descriptor(JsonNode node, String where) {
        if (!node.isObject()) {
            throw invalid(where + " is not a descriptor");
        }
        String mediaType = text(node, "mediaType").orElseThrow(() -> invalid(where + " has no mediaType"));
        String digest = text(node, "digest").orElseThrow(() -> invalid(where + " has no digest"));
        JsonNode size = node.get("size");
        if (size == null || !size.canConvertToLong() || !size.isIntegralNumber() || size.longValue() < 0) {
            throw invalid(where + " has no valid size");
        }
        Digest parsed;
        try {
            parsed = Digest.parse(digest);
        } catch (InvalidRequestException e) {
            throw invalid(where + ": " + e.getMessage());
        }
        JsonNode platform = node.get("platform");
        Descriptor.Platform p = platform == null || !platform.isObject() ? null : new Descriptor.Platform(
                platform.path("os").asText(null), platform.path("architecture").asText(null),
                platform.path("variant").asText(null));
        return new Descriptor(mediaType, parsed, size.longValue(), p);
    }

    private static Map<String, String> annotations(JsonNode node) {
        if (node == null || node.isNull()) {
            return Map.of();
        }
        if (!node.isObject()) {
            throw invalid("annotations is not a map of strings");
        }
        Map<String, String> found = new LinkedHashMap<>();
        node.fields().forEachRemaining(entry -> {
            if (!entry.getValue().isTextual()) {
                throw invalid("annotation " + entry.getKey() + " is not a string");
            }
            found.put(entry.getKey(), entry.getValue().textValue());
        });
        return found;
    }

    private static Optional<String> text(JsonNode node, String field) {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            return Optional.empty();
        }
        if (!value.isTextual() || value.textValue().isBlank()) {
            throw invalid(field + " is not a string");
        }
        return Optional.of(value.textValue());
    }

    private static InvalidRequestException invalid(String message) {
        return new InvalidRequestException(RegistryErrorCode.MANIFEST_INVALID, message);
    }
}
