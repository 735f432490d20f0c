package dev.regmirror.core.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.regmirror.core.error.RegistryErrorCode;
import dev.regmirror.core.error.UpstreamErrorException;
import dev.regmirror.core.error.UpstreamUnavailableException;
import dev.regmirror.core.manifest.ManifestBytes;
import dev.regmirror.core.manifest.MediaTypes;
import dev.regmirror.core.mirror.Futures;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.reference.Reference;
import dev.regmirror.core.reference.RepositoryName;
import dev.regmirror.core.reference.Tag;
import dev.regmirror.core.upstream.Route;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;

/**
 * Asking a tag's owner (by repository and tag) or a manifest's (by digest): its manifest when it
 * answers, this node's own upstream when it cannot be asked, its 404 as final.
 */
class ClusterManifestsTest {

    private static final NodeAddress SELF = NodeAddress.parse("10.0.0.1:5000");
    private static final NodeAddress PEER = NodeAddress.parse("10.0.0.2:5000");
    private static final Route ROUTE = new Route("docker.io", new RepositoryName("library/alpine"));
    private static final byte[] BYTES = "{\"schemaVersion\":2}".getBytes(StandardCharsets.UTF_8);
    private static final PeerManifest MANIFEST = new PeerManifest(
            new ManifestBytes(MediaTypes.OCI_MANIFEST, Digest.sha256Of(BYTES), BYTES), Optional.empty(), Optional.empty());

    private final List<String> asked = new ArrayList<>();

    private Membership twoNodes() {
        Membership members = new Membership(SELF, Clock.systemUTC());
        members.peers(List.of(SELF, PEER));
        members.answered(PEER);
        return members;
    }

    /** A tag of {@link #ROUTE} that {@code owner} owns among the two nodes. */
    private static Tag tagOwnedBy(NodeAddress owner) {
        for (int i = 0; ; i++) {
            Tag tag = new Tag("v" + i);
            if (Rendezvous.owner(ROUTE + ":" + tag, List.of(SELF, PEER)).equals(owner)) {
                return tag;
            }
        }
    }

    private ClusterManifests manifests(Membership members, CompletableFuture<PeerManifest> answer) {
        return new ClusterManifests(members, (owner, route, reference) -> {
            asked.add(owner + " " + reference);
            return answer;
        });
    }

    @Test
    void aTagThisNodeOwnsIsRevalidatedHereWithoutAskingAnyone() {
        ClusterManifests manifests = manifests(twoNodes(), CompletableFuture.completedFuture(MANIFEST));
        Tag mine = tagOwnedBy(SELF);
        assertFalse(manifests.ownedElsewhere(ROUTE, mine));
        assertEquals(Optional.empty(), manifests.fetch(ROUTE, mine).join());
        assertEquals(List.of(), asked);
    }

    @Test
    void aTagAnotherNodeOwnsIsAskedOfItAndTheSameTagOfAnotherRepositoryMayBeOwnedElsewhere() {
        ClusterManifests manifests = manifests(twoNodes(), CompletableFuture.completedFuture(MANIFEST));
        Tag theirs = tagOwnedBy(PEER);
        assertTrue(manifests.ownedElsewhere(ROUTE, theirs));
        assertSame(MANIFEST, manifests.fetch(ROUTE, theirs).join().orElseThrow());
        assertEquals(List.of(PEER + " " + theirs), asked);
        long ownersOfLatest = java.util.stream.IntStream.range(0, 64)
                .mapToObj(i -> manifests.owner(new Route("docker.io", new RepositoryName("library/app" + i)), new Tag("latest")))
                .distinct().count();
        assertEquals(2, ownersOfLatest, "a tag is owned by repository and tag, not by its name alone");
    }

    @Test
    void aManifestByDigestIsOwnedByItsDigestLikeABlob() {
        ClusterManifests manifests = manifests(twoNodes(), CompletableFuture.completedFuture(MANIFEST));
        for (int i = 0; i < 16; i++) {
            Digest digest = Digest.sha256Of(("manifest " + i).getBytes(StandardCharsets.UTF_8));
            assertEquals(Rendezvous.owner(digest, List.of(SELF, PEER)), manifests.owner(ROUTE, (Reference) digest));
        }
    }

    @Test
    void anOwnerThatCannotBeAskedLeavesTheTagToThisNode() {
        ClusterManifests manifests = manifests(twoNodes(), CompletableFuture.failedFuture(
                new UpstreamUnavailableException("docker.io", "manifest from 10.0.0.2:5000: connection refused", null)));
        assertEquals(Optional.empty(), manifests.fetch(ROUTE, tagOwnedBy(PEER)).join());
    }

    @Test
    void theOwnersNotFoundIsTheAnswer() {
        UpstreamErrorException notFound = new UpstreamErrorException(RegistryErrorCode.MANIFEST_UNKNOWN,
                "manifest unknown", null, "docker.io", 404, Map.of());
        ClusterManifests manifests = manifests(twoNodes(), CompletableFuture.failedFuture(notFound));
        CompletionException e = assertThrows(CompletionException.class,
                () -> manifests.fetch(ROUTE, tagOwnedBy(PEER)).join());
        assertSame(notFound, Futures.unwrap(e));
    }

    @Test
    void aDeadOwnersTagsGoToTheLiveNodes() {
        Membership members = twoNodes();
        ClusterManifests manifests = manifests(members, CompletableFuture.completedFuture(MANIFEST));
        Tag theirs = tagOwnedBy(PEER);
        members.failed(PEER, "timed out");
        members.failed(PEER, "timed out");
        assertFalse(manifests.ownedElsewhere(ROUTE, theirs));
        assertEquals(Optional.empty(), manifests.fetch(ROUTE, theirs).join());
        assertEquals(List.of(), asked);
    }
}
