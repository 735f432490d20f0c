package dev.regmirror.core.manifest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * The image indexes of the
 * <a href="https://github.com/opencontainers/distribution-spec/blob/main/spec.md#listing-referrers">referrers
 * API</a>: the empty one, and an index's descriptors kept to one {@code artifactType}.
 */
public final class ReferrerIndexes {

    /** The answer when nothing refers to a subject. */
    public static final String EMPTY_JSON = "{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_INDEX
            + "\",\"manifests\":[]}";

    private static final ObjectMapper MAPPER = new ObjectMapper();

    private ReferrerIndexes() {
    }

    /** The bytes of {@link #EMPTY_JSON}. */
    public static byte[] empty() {
        return EMPTY_JSON.getBytes(StandardCharsets.UTF_8);
    }

    /**
     * The index with only the descriptors whose {@code artifactType} is {@code artifactType}, its other
     * fields kept; empty if the bytes are not a JSON object with a {@code manifests} array.
     */
    public static Optional<byte[]> filter(byte[] index, String artifactType) {
        JsonNode tree;
        try {
            tree = MAPPER.readTree(index);
        } catch (IOException e) {
            return Optional.empty();
        }
        if (!(tree instanceof ObjectNode object) || !(object.get("manifests") instanceof ArrayNode manifests)) {
            return Optional.empty();
        }
        ArrayNode kept = MAPPER.createArrayNode();
        for (JsonNode descriptor : manifests) {
            if (artifactType.equals(descriptor.path("artifactType").asText(null))) {
                kept.add(descriptor);
            }
        }
        object.set("manifests", kept);
        try {
            return Optional.of(MAPPER.writeValueAsBytes(object));
        } catch (IOException e) {
            return Optional.empty();
        }
    }
}
