package dev.regmirror.core.cluster;

import dev.regmirror.core.reference.Reference;
import dev.regmirror.core.upstream.Route;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Which node revalidates a tag and fetches a manifest that is not in the store: this one, or its
 * owner in a cluster (by repository and tag, or by digest), asked for the manifest.
 */
public interface ManifestOwners {

    /** A node on its own: it asks its upstream itself. */
    ManifestOwners NONE = new ManifestOwners() {
        @Override
        public boolean ownedElsewhere(Route route, Reference reference) {
            return false;
        }

        @Override
        public CompletableFuture<Optional<PeerManifest>> fetch(Route route, Reference reference) {
            return CompletableFuture.completedFuture(Optional.empty());
        }
    };

    /** Whether another live node owns the tag (or digest) of the repository. */
    boolean ownedElsewhere(Route route, Reference reference);

    /**
     * The owner's manifest for the tag or digest, as the owner resolved it (from its cache within
     * the tag's TTL, else revalidated once with its upstream); empty when this node is to ask its
     * upstream itself (it owns the reference by now, or the owner could not be asked). Fails when
     * the owner's answer is final: the upstream does not have it.
     */
    CompletableFuture<Optional<PeerManifest>> fetch(Route route, Reference reference);
}
