package dev.regmirror.core.mirror;

import com.github.benmanes.caffeine.cache.AsyncCache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.regmirror.core.blob.ManifestStore;
import dev.regmirror.core.cache.TagStore;
import dev.regmirror.core.manifest.Descriptor;
import dev.regmirror.core.manifest.ManifestBytes;
import dev.regmirror.core.manifest.Manifests;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.reference.Tag;
import dev.regmirror.core.upstream.Route;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * What a mirrored repository reached through its tags, as the cache records it: the manifests its
 * tags last resolved to, the manifests those list (an index's platforms: here, with the upstream
 * down, the index's word is taken, as a client that pulled it online was served those platforms) and
 * the config and layers each names that its upstream held (see {@link Manifests#held}). {@link DigestLinks} falls back on it when an
 * unlinked digest cannot be confirmed because the upstream does not answer: links live in one
 * node's memory, and a restarted node, or another node of a cluster, has not seen the manifest a
 * client's blob requests follow. One walk per repository at a time, on the disk executor (tag
 * records and manifests are files, or bucket objects); its result is kept for a while, so requests
 * for unknown digests while the upstream is down do not walk the tags again each time.
 */
public final class TagReach implements DigestLinks.Fallback {

    /** How long a walk's result stands: long enough to absorb a burst, short enough to see new tags. */
    private static final Duration KEPT = Duration.ofSeconds(30);

    private final TagStore tags;
    private final ManifestStore manifests;
    private final Executor diskExecutor;
    private final AsyncCache<Route, Set<Digest>> walks = Caffeine.newBuilder().expireAfterWrite(KEPT)
            .maximumSize(1_000).buildAsync();

    public TagReach(TagStore tags, ManifestStore manifests, Executor diskExecutor) {
        this.tags = tags;
        this.manifests = manifests;
        this.diskExecutor = diskExecutor;
    }

    /** Whether the route reached the digest through its tags; false when the records cannot be read. */
    @Override
    public CompletableFuture<Boolean> reaches(Route route, Digest digest) {
        return walks.get(route, (key, executor) -> Futures.supplyOn(diskExecutor, () -> walk(key)))
                .handle((reached, unreadable) -> reached != null && reached.contains(digest));
    }

    private Set<Digest> walk(Route route) throws IOException {
        Set<Digest> reached = new HashSet<>();
        Set<Digest> read = new HashSet<>();
        Deque<Digest> manifestsToRead = new ArrayDeque<>();
        for (Tag tag : tags.tags(route)) {
            tags.get(route, tag).map(TagStore.Resolution::digest).ifPresent(manifestsToRead::add);
        }
        while (!manifestsToRead.isEmpty()) {
            Digest digest = manifestsToRead.poll();
            reached.add(digest);
            if (!read.add(digest)) {
                continue;
            }
            Optional<ManifestBytes> manifest = manifests.get(digest);
            if (manifest.isEmpty()) {
                continue;
            }
            manifestsToRead.addAll(Manifests.indexEntries(manifest.get().bytes()).stream().map(Descriptor::digest).toList());
            for (Descriptor named : Manifests.held(manifest.get().bytes())) {
                reached.add(named.digest());
            }
        }
        return reached;
    }
}
