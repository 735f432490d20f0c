package dev.regmirror.core.client;

import dev.regmirror.core.reference.Digest;
import java.util.Optional;

/** What a manifest HEAD told: the digest (if the upstream sent Docker-Content-Digest), type and size. */
public record ManifestHead(Optional<Digest> digest, String mediaType, long size) {
}
