package dev.regmirror.core.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.regmirror.core.client.BlobBody;
import dev.regmirror.core.error.RegistryErrorCode;
import dev.regmirror.core.error.UpstreamErrorException;
import dev.regmirror.core.error.UpstreamUnavailableException;
import dev.regmirror.core.mirror.Futures;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.reference.RepositoryName;
import dev.regmirror.core.upstream.Route;
import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Flow;
import org.junit.jupiter.api.Test;

/** Asking the owner: its body when it answers, this node's own fetch when it cannot be asked, its 404 as final. */
class ClusterBlobsTest {

    private static final NodeAddress SELF = NodeAddress.parse("10.0.0.1:5000");
    private static final NodeAddress PEER = NodeAddress.parse("10.0.0.2:5000");
    private static final Route ROUTE = new Route("docker.io", new RepositoryName("library/alpine"));
    private static final BlobBody BODY = new BlobBody() {
        @Override
        public long contentLength() {
            return 3;
        }

        @Override
        public Flow.Publisher<ByteBuf> publisher() {
            throw new UnsupportedOperationException();
        }
    };

    private final List<NodeAddress> asked = new ArrayList<>();

    private Membership twoNodes() {
        Membership members = new Membership(SELF, Clock.systemUTC());
        members.peers(List.of(SELF, PEER));
        members.answered(PEER);
        return members;
    }

    /** A digest {@code owner} owns among the two nodes. */
    private static Digest ownedBy(NodeAddress owner) {
        for (int i = 0; ; i++) {
            Digest digest = Digest.sha256Of(("blob " + i).getBytes(StandardCharsets.UTF_8));
            if (Rendezvous.owner(digest, List.of(SELF, PEER)).equals(owner)) {
                return digest;
            }
        }
    }

    private ClusterBlobs blobs(Membership members, CompletableFuture<BlobBody> answer) {
        return new ClusterBlobs(members, (owner, route, digest) -> {
            asked.add(owner);
            return answer;
        });
    }

    @Test
    void aBlobThisNodeOwnsIsFetchedHereWithoutAskingAnyone() {
        ClusterBlobs blobs = blobs(twoNodes(), CompletableFuture.completedFuture(BODY));
        Digest mine = ownedBy(SELF);
        assertFalse(blobs.ownedElsewhere(mine));
        assertEquals(Optional.empty(), blobs.fetch(ROUTE, mine).join());
        assertEquals(List.of(), asked);
    }

    @Test
    void aBlobAnotherNodeOwnsIsAskedOfIt() {
        ClusterBlobs blobs = blobs(twoNodes(), CompletableFuture.completedFuture(BODY));
        Digest theirs = ownedBy(PEER);
        assertTrue(blobs.ownedElsewhere(theirs));
        assertSame(BODY, blobs.fetch(ROUTE, theirs).join().orElseThrow());
        assertEquals(List.of(PEER), asked);
    }

    @Test
    void anOwnerThatCannotBeAskedLeavesTheFetchToThisNode() {
        ClusterBlobs blobs = blobs(twoNodes(), CompletableFuture.failedFuture(
                new UpstreamUnavailableException("docker.io", "pull blob from 10.0.0.2:5000: connection refused", null)));
        assertEquals(Optional.empty(), blobs.fetch(ROUTE, ownedBy(PEER)).join());
    }

    @Test
    void theOwnersNotFoundIsTheAnswer() {
        UpstreamErrorException notFound = new UpstreamErrorException(RegistryErrorCode.BLOB_UNKNOWN, "blob unknown",
                null, "docker.io", 404, Map.of());
        ClusterBlobs blobs = blobs(twoNodes(), CompletableFuture.failedFuture(notFound));
        CompletionException e = org.junit.jupiter.api.Assertions.assertThrows(CompletionException.class,
                () -> blobs.fetch(ROUTE, ownedBy(PEER)).join());
        assertSame(notFound, Futures.unwrap(e));
    }

    @Test
    void aDeadOwnersBlobsGoToTheLiveNodes() {
        Membership members = twoNodes();
        ClusterBlobs blobs = blobs(members, CompletableFuture.completedFuture(BODY));
        Digest theirs = ownedBy(PEER);
        members.failed(PEER, "timed out");
        members.failed(PEER, "timed out");
        assertFalse(blobs.ownedElsewhere(theirs));
        assertEquals(Optional.empty(), blobs.fetch(ROUTE, theirs).join());
        assertEquals(List.of(), asked);
    }
}
