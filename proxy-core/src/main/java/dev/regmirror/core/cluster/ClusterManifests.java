package dev.regmirror.core.cluster;

import dev.regmirror.core.error.UpstreamErrorException;
import dev.regmirror.core.mirror.Futures;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.reference.Reference;
import dev.regmirror.core.upstream.Route;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The owners of tags and manifests in a cluster: a tag belongs to the live node that rendezvous
 * hashing gives {@code <registry>/<name>:<tag>}, a manifest by digest to the digest's. Only the
 * owner revalidates a tag with the upstream, so a tag is revalidated once per cluster per TTL; an
 * owner that cannot be asked leaves the upstream to this node (degrade, never error).
 */
public final class ClusterManifests implements ManifestOwners {

    private static final Logger LOG = LoggerFactory.getLogger(ClusterManifests.class);

    /** The node-to-node request for a manifest. */
    public interface PeerManifests {

        /** The owner's manifest, once the owner answered 200; fails as a registry client does. */
        CompletableFuture<PeerManifest> getManifest(NodeAddress owner, Route route, Reference reference);
    }

    private final Membership membership;
    private final PeerManifests peers;

    public ClusterManifests(Membership membership, PeerManifests peers) {
        this.membership = membership;
        this.peers = peers;
    }

    /** The live node that owns the tag (or digest) of the repository now. */
    public NodeAddress owner(Route route, Reference reference) {
        String key = reference instanceof Digest digest ? digest.toString() : route + ":" + reference;
        return Rendezvous.owner(key, membership.live());
    }

    @Override
    public boolean ownedElsewhere(Route route, Reference reference) {
        return !owner(route, reference).equals(membership.self());
    }

    @Override
    public CompletableFuture<Optional<PeerManifest>> fetch(Route route, Reference reference) {
        NodeAddress owner = owner(route, reference);
        if (owner.equals(membership.self())) {
            return CompletableFuture.completedFuture(Optional.empty());
        }
        CompletableFuture<PeerManifest> asked;
        try {
            asked = peers.getManifest(owner, route, reference);
        } catch (RuntimeException e) {
            asked = CompletableFuture.failedFuture(e);
        }
        return asked.handle((manifest, failure) -> {
            if (failure == null) {
                return Optional.of(manifest);
            }
            Throwable cause = Futures.unwrap(failure);
            if (cause instanceof UpstreamErrorException error && error.isNotFound()) {
                throw error;
            }
            LOG.warn("cluster: cannot get manifest {} of {} from its owner {}: {}; asking the upstream here", reference,
                    route, owner, cause.toString());
            return Optional.empty();
        });
    }
}
