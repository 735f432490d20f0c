package dev.regmirror.core.client;

import dev.regmirror.core.reference.Digest;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * What a manifest HEAD told: the digest (if the upstream sent Docker-Content-Digest), type and
 * size, and how many pulls the upstream says are left ({@code ratelimit-remaining}, Docker Hub's
 * header), if it said.
 */
public record ManifestHead(Optional<Digest> digest, String mediaType, long size, OptionalLong rateLimitRemaining) {

    public ManifestHead(Optional<Digest> digest, String mediaType, long size) {
        this(digest, mediaType, size, OptionalLong.empty());
    }

    /** Reads {@code ratelimit-remaining: 76;w=21600} (the count before any {@code ;}). */
    static OptionalLong rateLimitRemaining(java.net.http.HttpHeaders headers) {
        Optional<String> value = headers.firstValue("ratelimit-remaining");
        if (value.isEmpty()) {
            return OptionalLong.empty();
        }
        String count = value.get().split(";", 2)[0].trim();
        try {
            return OptionalLong.of(Long.parseLong(count));
        } catch (NumberFormatException e) {
            return OptionalLong.empty();
        }
    }
}
