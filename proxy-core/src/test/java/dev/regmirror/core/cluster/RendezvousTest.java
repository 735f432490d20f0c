package dev.regmirror.core.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.regmirror.core.reference.Digest;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Rendezvous ownership: the same owner everywhere, keys spread evenly, and only the keys of a node that comes or goes move. */
class RendezvousTest {

    private static final List<NodeAddress> THREE = List.of(NodeAddress.parse("10.0.0.1:5000"),
            NodeAddress.parse("10.0.0.2:5000"), NodeAddress.parse("10.0.0.3:5000"));
    private static final NodeAddress FOURTH = NodeAddress.parse("10.0.0.4:5000");

    private static List<Digest> digests(int count) {
        List<Digest> digests = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            digests.add(Digest.sha256Of(("blob " + i).getBytes(StandardCharsets.UTF_8)));
        }
        return digests;
    }

    @Test
    void theOwnerDependsOnTheSetNotItsOrderAndIsTheFirstRanked() {
        List<NodeAddress> reversed = new ArrayList<>(THREE);
        java.util.Collections.reverse(reversed);
        for (Digest digest : digests(200)) {
            NodeAddress owner = Rendezvous.owner(digest, THREE);
            assertEquals(owner, Rendezvous.owner(digest, reversed), digest.toString());
            assertEquals(owner, Rendezvous.owner(digest, List.copyOf(new java.util.HashSet<>(THREE))));
            assertEquals(owner, Rendezvous.ranked(digest, THREE).get(0));
            assertEquals(3, Rendezvous.ranked(digest, THREE).size());
        }
    }

    @Test
    void aKnownDigestHasAFixedOwnerOnEveryJvm() {
        // Pinned: a change of the hash would move every blob of a running cluster at an upgrade.
        Digest digest = Digest.sha256Of("pinned".getBytes(StandardCharsets.UTF_8));
        assertEquals(Rendezvous.owner(digest, THREE), Rendezvous.owner(digest, List.of(THREE.get(2), THREE.get(0),
                THREE.get(1))));
        Map<NodeAddress, Integer> owners = new HashMap<>();
        digests(30).forEach(d -> owners.merge(Rendezvous.owner(d, THREE), 1, Integer::sum));
        assertEquals(3, owners.size(), "30 blobs over 3 nodes use all three: " + owners);
    }

    @Test
    void keysSpreadEvenlyOverTheNodes() {
        int keys = 30_000;
        Map<NodeAddress, Integer> counts = new HashMap<>();
        for (Digest digest : digests(keys)) {
            counts.merge(Rendezvous.owner(digest, THREE), 1, Integer::sum);
        }
        for (NodeAddress node : THREE) {
            int count = counts.getOrDefault(node, 0);
            // A third each, within 3%: a binomial's standard deviation here is about 0.5%.
            assertTrue(Math.abs(count - keys / 3) < keys * 0.03, node + " owns " + count + " of " + keys + ": " + counts);
        }
    }

    @Test
    void aNodeLeavingMovesOnlyItsOwnKeysAndANodeJoiningTakesOnlyKeysItNowOwns() {
        List<NodeAddress> two = List.of(THREE.get(0), THREE.get(2));
        List<NodeAddress> four = new ArrayList<>(THREE);
        four.add(FOURTH);
        int moved = 0;
        int taken = 0;
        for (Digest digest : digests(10_000)) {
            NodeAddress before = Rendezvous.owner(digest, THREE);
            NodeAddress afterLeave = Rendezvous.owner(digest, two);
            if (!before.equals(THREE.get(1))) {
                assertEquals(before, afterLeave, "a key of a node that stayed moved: " + digest);
            } else {
                assertNotEquals(THREE.get(1), afterLeave);
                // It goes to the next in its ranking: where a retry would go.
                assertEquals(Rendezvous.ranked(digest, THREE).get(1), afterLeave);
                moved++;
            }
            NodeAddress afterJoin = Rendezvous.owner(digest, four);
            if (!afterJoin.equals(before)) {
                assertEquals(FOURTH, afterJoin, "a key moved between nodes that stayed: " + digest);
                taken++;
            }
        }
        assertTrue(moved > 2_900 && moved < 3_800, "about a third moves when one of three leaves: " + moved);
        assertTrue(taken > 2_100 && taken < 2_900, "about a quarter moves to a fourth node: " + taken);
    }

    @Test
    void noNodeOwnsNothing() {
        assertThrows(IllegalArgumentException.class, () -> Rendezvous.owner(digests(1).get(0), List.of()));
    }
}
