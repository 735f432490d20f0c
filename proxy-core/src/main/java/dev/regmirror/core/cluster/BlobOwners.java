package dev.regmirror.core.cluster;

import dev.regmirror.core.client.BlobBody;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.upstream.Route;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/** Which node fetches a blob that is not in the store: this one, or its owner in a cluster, asked for the bytes. */
public interface BlobOwners {

    /** A node on its own: it fetches every blob itself. */
    BlobOwners NONE = new BlobOwners() {
        @Override
        public boolean ownedElsewhere(Digest digest) {
            return false;
        }

        @Override
        public CompletableFuture<Optional<BlobBody>> fetch(Route route, Digest digest) {
            return CompletableFuture.completedFuture(Optional.empty());
        }
    };

    /** Whether another live node owns the digest, so that its bytes are to be asked of that node. */
    boolean ownedElsewhere(Digest digest);

    /**
     * The owner's body of the blob, streaming as the owner gets it; empty when this node is to
     * fetch it itself (it owns it by now, or the owner could not be asked). Fails when the owner's
     * answer is final: the upstream does not have the blob.
     */
    CompletableFuture<Optional<BlobBody>> fetch(Route route, Digest digest);
}
