package dev.regmirror.core.cluster;

import dev.regmirror.core.cluster.NodeStatus.State;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which nodes of the cluster are live: this node always, a peer from its first answered health
 * check until {@link #FAILURES_TO_DEAD} checks in a row fail, and again from its next answered one.
 * The live set is read on every blob miss, so it is kept as one immutable sorted list; each peer's
 * state, since when, and its last failed check are kept beside it for {@link #nodes()}.
 */
public final class Membership {

    private static final Logger LOG = LoggerFactory.getLogger(Membership.class);

    /** Failed checks in a row that make a live peer dead: one lost packet does not move its blobs. */
    static final int FAILURES_TO_DEAD = 2;

    /** What this node knows of one peer; guarded by the membership's lock. */
    private static final class Peer {
        State state = State.JOINING;
        Instant since;
        int failedChecks;
        String lastError;
        Instant lastErrorAt;

        Peer(Instant named) {
            this.since = named;
        }
    }

    private final NodeAddress self;
    private final Clock clock;
    /** Every known peer (not this node), sorted; the live ones are in {@link #live} too. */
    private final Map<NodeAddress, Peer> peers = new TreeMap<>();
    private volatile List<NodeAddress> live;

    /** A membership of this node alone until {@link #peers} names the others; {@code clock} dates their changes. */
    public Membership(NodeAddress self, Clock clock) {
        this.self = self;
        this.clock = clock;
        this.live = List.of(self);
    }

    public NodeAddress self() {
        return self;
    }

    /** This node and the peers that answer, sorted. */
    public List<NodeAddress> live() {
        return live;
    }

    /** The peers to check: every known one, live or not, without this node. */
    public synchronized List<NodeAddress> peers() {
        return List.copyOf(peers.keySet());
    }

    /** Every node, this one among them, sorted by address, as it stands now. */
    public synchronized List<NodeStatus> nodes() {
        List<NodeStatus> nodes = new ArrayList<>();
        nodes.add(new NodeStatus(self, true, State.LIVE, Optional.empty(), 0, Optional.empty(), Optional.empty()));
        peers.forEach((node, peer) -> nodes.add(new NodeStatus(node, false, peer.state, Optional.of(peer.since),
                peer.failedChecks, Optional.ofNullable(peer.lastError), Optional.ofNullable(peer.lastErrorAt))));
        nodes.sort((a, b) -> a.node().compareTo(b.node()));
        return List.copyOf(nodes);
    }

    /**
     * The peers as configured or looked up now; new ones are taken once they answer a check,
     * ones no longer named leave at once. This node is ignored if named.
     */
    public synchronized void peers(Collection<NodeAddress> named) {
        Set<NodeAddress> wanted = new TreeSet<>(named);
        wanted.remove(self);
        for (NodeAddress gone : new ArrayList<>(peers.keySet())) {
            if (!wanted.contains(gone) && peers.remove(gone).state == State.LIVE) {
                publish();
                LOG.info("cluster: peer {} is no longer named; {} nodes live", gone, live.size());
            }
        }
        Instant now = clock.instant();
        for (NodeAddress peer : wanted) {
            peers.computeIfAbsent(peer, added -> new Peer(now));
        }
    }

    /** A health check of {@code peer} was answered. */
    public synchronized void answered(NodeAddress peer) {
        Peer known = peers.get(peer);
        if (known == null) {
            return;
        }
        known.failedChecks = 0;
        if (known.state != State.LIVE) {
            known.state = State.LIVE;
            known.since = clock.instant();
            publish();
            LOG.info("cluster: peer {} is live; {} nodes live", peer, live.size());
        }
    }

    /**
     * A health check of {@code peer} failed (refused, timed out, wrong answer) for {@code reason},
     * which is kept as its last error: it must name no secret.
     */
    public synchronized void failed(NodeAddress peer, String reason) {
        Peer known = peers.get(peer);
        if (known == null) {
            return;
        }
        Instant now = clock.instant();
        known.failedChecks++;
        known.lastError = reason;
        known.lastErrorAt = now;
        if (known.state == State.LIVE && known.failedChecks >= FAILURES_TO_DEAD) {
            known.state = State.DOWN;
            known.since = now;
            publish();
            LOG.warn("cluster: peer {} is down ({}); {} nodes live, its blobs go to the others", peer, reason,
                    live.size());
        }
    }

    private void publish() {
        List<NodeAddress> all = new ArrayList<>();
        all.add(self);
        peers.forEach((node, peer) -> {
            if (peer.state == State.LIVE) {
                all.add(node);
            }
        });
        all.sort(null);
        live = List.copyOf(all);
    }
}
