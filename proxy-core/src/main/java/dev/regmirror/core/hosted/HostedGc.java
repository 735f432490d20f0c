package dev.regmirror.core.hosted;

import dev.regmirror.core.blob.ManifestStore;
import dev.regmirror.core.cache.CacheIndex;
import dev.regmirror.core.error.InvalidRequestException;
import dev.regmirror.core.manifest.Descriptor;
import dev.regmirror.core.manifest.ManifestBytes;
import dev.regmirror.core.manifest.PushedManifest;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.reference.RepositoryName;
import dev.regmirror.core.upstream.Route;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The garbage collection of hosted blobs, in the manner of distribution's mark and sweep
 * ({@code registry/storage/garbagecollect.go}): in each hosted repository, a blob link that no
 * manifest of that repository references and that was not uploaded or mounted within the upload
 * timeout (a manifest may still be coming for it) is removed, and a digest no hosted repository
 * links any more is released to the cache, whose prune then deletes it unless a cached manifest
 * still references it. Manifests stay until deleted. Run it holding the write lock of
 * {@link HostedStore#pushLock()}, so no push stores a blob that is not yet linked; disk I/O: call
 * from the maintenance executor.
 */
public final class HostedGc {

    /** A blob link of a hosted repository. */
    public record Link(Route route, Digest digest) {
        @Override
        public String toString() {
            return route + "@" + digest;
        }
    }

    /**
     * What a collection removes: the blob links, and the digests no repository links after that,
     * released from retention.
     */
    public record Plan(List<Link> unlinked, Set<Digest> released) {
        public Plan {
            unlinked = List.copyOf(unlinked);
            released = Set.copyOf(released);
        }
    }

    private final HostedStore store;
    private final ManifestStore manifests;
    private final CacheIndex index;
    private final String registry;
    private final Duration grace;
    private final Clock clock;

    /**
     * @param registry the hosted registry's name, which routes of hosted repositories carry
     * @param grace    how long a blob link nothing references is kept: the upload timeout
     */
    public HostedGc(HostedStore store, ManifestStore manifests, CacheIndex index, String registry, Duration grace,
                    Clock clock) {
        this.store = store;
        this.manifests = manifests;
        this.index = index;
        this.registry = registry;
        this.grace = grace;
        this.clock = clock;
    }

    /** Decides what a collection removes, without removing anything. */
    public Plan plan() throws IOException {
        Instant cutoff = clock.instant().minus(grace);
        List<Link> unlinked = new ArrayList<>();
        Set<Digest> stillLinked = new HashSet<>();
        for (RepositoryName name : store.repositories()) {
            Route route = Route.hosted(registry, name);
            List<Digest> repositoryManifests = store.manifests(route);
            stillLinked.addAll(repositoryManifests);
            Optional<Set<Digest>> referenced = referencedBy(repositoryManifests);
            for (Digest blob : store.blobs(route)) {
                Optional<Instant> linkedAt = store.blobLinkedAt(route, blob);
                // A manifest that cannot be read keeps every blob of its repository this time.
                if (referenced.isEmpty() || referenced.get().contains(blob)
                        || linkedAt.isPresent() && linkedAt.get().isAfter(cutoff)) {
                    stillLinked.add(blob);
                } else {
                    unlinked.add(new Link(route, blob));
                    store.stored(blob); // indexed, when another node on the bucket stored it, for the prune
                }
            }
        }
        // What another node on the same bucket linked since this one opened is retained here too,
        // so the cache's prune that follows does not take it for cached content.
        stillLinked.forEach(index::retain);
        // Every retained digest no link keeps: the blobs unlinked here, and manifests deleted since.
        Set<Digest> released = new HashSet<>(index.retainedDigests());
        released.removeAll(stillLinked);
        return new Plan(unlinked, released);
    }

    /** Retains every digest a hosted repository links now (some other node's links too): what a purge does first. */
    public void retainLinked() throws IOException {
        store.retainLinked();
    }

    /** Removes the plan's links and releases its digests to the cache. */
    public void apply(Plan plan) throws IOException {
        for (Link link : plan.unlinked()) {
            store.unlinkBlob(link.route(), link.digest());
        }
        plan.released().forEach(index::release);
    }

    /**
     * The blobs (config, layers) the manifests reference, read as a push reads them; an index's
     * entries are manifests, linked themselves. Empty when one cannot be read: nothing is collected.
     */
    private Optional<Set<Digest>> referencedBy(List<Digest> repositoryManifests) throws IOException {
        Set<Digest> referenced = new HashSet<>();
        for (Digest digest : repositoryManifests) {
            Optional<ManifestBytes> manifest = manifests.get(digest);
            if (manifest.isEmpty()) {
                return Optional.empty();
            }
            try {
                for (Descriptor blob : PushedManifest.parse(manifest.get().bytes(),
                        Optional.of(manifest.get().mediaType())).blobs()) {
                    referenced.add(blob.digest());
                }
            } catch (InvalidRequestException unreadable) {
                return Optional.empty();
            }
        }
        return Optional.of(referenced);
    }
}
