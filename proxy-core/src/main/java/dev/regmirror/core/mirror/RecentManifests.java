package dev.regmirror.core.mirror;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.regmirror.core.cache.CacheIndex;
import dev.regmirror.core.manifest.ManifestBytes;
import dev.regmirror.core.reference.Digest;
import java.util.Optional;

/**
 * The manifests last read from the cache, kept in memory (bounded by bytes), so that a cached
 * manifest is answered with no disk read and no hand-off to the disk executor. One is served only
 * while the cache index still holds its digest, which it is marked used in as a read from disk
 * would: a manifest evicted, purged or moved aside is looked for on disk again, and missed there.
 * No disk I/O: safe on an event loop.
 */
public final class RecentManifests {

    /** Per manifest besides its bytes: the digest, the media type, the cache's own entry. */
    private static final int OVERHEAD = 256;

    private final CacheIndex index;
    /** Null when nothing is kept. */
    private final Cache<Digest, ManifestBytes> recent;

    /** @param maxBytes the manifests' bytes kept at most; 0 keeps none */
    public RecentManifests(CacheIndex index, long maxBytes) {
        if (maxBytes < 0) {
            throw new IllegalArgumentException("negative size: " + maxBytes);
        }
        this.index = index;
        this.recent = maxBytes == 0 ? null : Caffeine.newBuilder().maximumWeight(maxBytes)
                .<Digest, ManifestBytes>weigher((digest, manifest) -> manifest.bytes().length + OVERHEAD).build();
    }

    /** Keeps nothing: every manifest is read from disk. */
    public static RecentManifests none() {
        return new RecentManifests(null, 0);
    }

    /** The manifest, if it was read lately and is still in the cache. */
    Optional<ManifestBytes> get(Digest digest) {
        if (recent == null) {
            return Optional.empty();
        }
        ManifestBytes manifest = recent.getIfPresent(digest);
        if (manifest == null) {
            return Optional.empty();
        }
        if (!index.contains(digest)) {
            recent.invalidate(digest);
            return Optional.empty();
        }
        index.touch(digest);
        return Optional.of(manifest);
    }

    /** Keeps a manifest just read from the cache. */
    void remember(ManifestBytes manifest) {
        if (recent != null) {
            recent.put(manifest.digest(), manifest);
        }
    }
}
