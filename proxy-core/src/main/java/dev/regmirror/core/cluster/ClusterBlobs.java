package dev.regmirror.core.cluster;

import dev.regmirror.core.client.BlobBody;
import dev.regmirror.core.error.UpstreamErrorException;
import dev.regmirror.core.mirror.Futures;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.upstream.Route;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The owners of blobs in a cluster: the live node that rendezvous hashing gives a digest. A node
 * that misses a blob another node owns asks that owner, whose one fill fetches it from the upstream
 * and stores it in the bucket; an owner that cannot be asked (refused, timed out, failing) leaves
 * the fetch to this node, so a cluster degrades to independent nodes, never to errors.
 */
public final class ClusterBlobs implements BlobOwners {

    private static final Logger LOG = LoggerFactory.getLogger(ClusterBlobs.class);

    /** The node-to-node request for a blob. */
    public interface PeerBlobs {

        /** The owner's body of the blob, once the owner answered 200; fails as a registry client does. */
        CompletableFuture<BlobBody> getBlob(NodeAddress owner, Route route, Digest digest);
    }

    private final Membership membership;
    private final PeerBlobs peers;

    public ClusterBlobs(Membership membership, PeerBlobs peers) {
        this.membership = membership;
        this.peers = peers;
    }

    /** The live node that owns {@code digest} now. */
    public NodeAddress owner(Digest digest) {
        return Rendezvous.owner(digest, membership.live());
    }

    @Override
    public boolean ownedElsewhere(Digest digest) {
        return !owner(digest).equals(membership.self());
    }

    @Override
    public CompletableFuture<Optional<BlobBody>> fetch(Route route, Digest digest) {
        NodeAddress owner = owner(digest);
        if (owner.equals(membership.self())) {
            return CompletableFuture.completedFuture(Optional.empty());
        }
        CompletableFuture<BlobBody> asked;
        try {
            asked = peers.getBlob(owner, route, digest);
        } catch (RuntimeException e) {
            asked = CompletableFuture.failedFuture(e);
        }
        return asked.handle((body, failure) -> {
            if (failure == null) {
                return Optional.of(body);
            }
            Throwable cause = Futures.unwrap(failure);
            if (cause instanceof UpstreamErrorException error && error.isNotFound()) {
                throw error;
            }
            LOG.warn("cluster: cannot get blob {} of {} from its owner {}: {}; fetching it here", digest.shortForm(),
                    route, owner, cause.toString());
            return Optional.empty();
        });
    }
}
