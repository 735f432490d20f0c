package dev.regmirror.core.manifest;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.regmirror.core.reference.Digest;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Reads what regmirror needs from manifest bytes: the media type, and an index's entries. */
public final class Manifests {

    private static final ObjectMapper MAPPER = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    private Manifests() {
    }

    /**
     * The media type of manifest bytes: the {@code mediaType} field where present, else guessed
     * from the shape (OCI allows the field to be absent), else empty.
     */
    public static Optional<String> detectMediaType(byte[] bytes) {
        ManifestJson json = read(bytes);
        if (json == null) {
            return Optional.empty();
        }
        if (json.mediaType() != null && !json.mediaType().isBlank()) {
            return Optional.of(json.mediaType());
        }
        if (json.schemaVersion() != null && json.schemaVersion() == 1) {
            return Optional.of(MediaTypes.DOCKER_MANIFEST_V1_SIGNED);
        }
        if (json.manifests() != null) {
            return Optional.of(MediaTypes.OCI_INDEX);
        }
        if (json.config() != null) {
            return Optional.of(MediaTypes.OCI_MANIFEST);
        }
        return Optional.empty();
    }

    /** The entries of an index or manifest list; empty for anything else or unparsable bytes. */
    public static List<Descriptor> indexEntries(byte[] bytes) {
        ManifestJson json = read(bytes);
        if (json == null || json.manifests() == null) {
            return List.of();
        }
        return toDescriptors(json.manifests());
    }

    /** The config and layers of an image manifest; empty for anything else. */
    public static List<Descriptor> blobsOf(byte[] bytes) {
        ManifestJson json = read(bytes);
        if (json == null) {
            return List.of();
        }
        return toDescriptors(blobs(json, new ArrayList<>()));
    }

    /**
     * The blobs an image manifest names that a registry checks the repository holds before it takes
     * the manifest: its config and layers, but not a layer the registry lets a pusher name without
     * having it (one with {@code urls}, or of a foreign or non-distributable media type). Not an
     * index's entries either: a registry may take an index whose manifests are elsewhere
     * (distribution's sparse indexes). Empty for anything else or unparsable bytes.
     */
    public static List<Descriptor> held(byte[] bytes) {
        ManifestJson json = read(bytes);
        if (json == null) {
            return List.of();
        }
        List<ManifestJson.DescriptorJson> blobs = blobs(json, new ArrayList<>());
        blobs.removeIf(entry -> entry != null && (entry.urls() != null && !entry.urls().isEmpty()
                || MediaTypes.nonDistributable(entry.mediaType())));
        return toDescriptors(blobs);
    }

    /** Adds the config and layers to {@code into}. */
    private static List<ManifestJson.DescriptorJson> blobs(ManifestJson json, List<ManifestJson.DescriptorJson> into) {
        if (json.config() != null) {
            into.add(json.config());
        }
        if (json.layers() != null) {
            into.addAll(json.layers());
        }
        return into;
    }

    private static List<Descriptor> toDescriptors(List<ManifestJson.DescriptorJson> entries) {
        List<Descriptor> out = new ArrayList<>(entries.size());
        for (ManifestJson.DescriptorJson entry : entries) {
            if (entry == null || entry.digest() == null) {
                continue;
            }
            Digest digest;
            try {
                digest = Digest.parse(entry.digest());
            } catch (RuntimeException e) {
                continue;
            }
            ManifestJson.PlatformJson p = entry.platform();
            out.add(new Descriptor(entry.mediaType(), digest, entry.size() == null ? -1 : entry.size(),
                    p == null ? null : new Descriptor.Platform(p.os(), p.architecture(), p.variant())));
        }
        return out;
    }

    private static ManifestJson read(byte[] bytes) {
        try {
            return MAPPER.readValue(bytes, ManifestJson.class);
        } catch (IOException e) {
            return null;
        }
    }
}
