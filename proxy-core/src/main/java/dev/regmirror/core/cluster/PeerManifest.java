package dev.regmirror.core.cluster;

import dev.regmirror.core.manifest.ManifestBytes;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * A manifest as another node of the cluster, its owner, answered it: the bytes, why they are stale
 * if the owner's upstream could not confirm them, and, for a tag, when the owner last resolved it.
 */
public record PeerManifest(ManifestBytes manifest, Optional<String> staleBecause, Optional<Instant> resolvedAt) {

    public PeerManifest {
        Objects.requireNonNull(manifest, "manifest");
        Objects.requireNonNull(staleBecause, "staleBecause");
        Objects.requireNonNull(resolvedAt, "resolvedAt");
    }
}
