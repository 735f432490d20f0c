package dev.regmirror.core.cluster;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which nodes of the cluster are live: this node always, a peer from its first answered health
 * check until {@link #FAILURES_TO_DEAD} checks in a row fail, and again from its next answered one.
 * The live set is read on every blob miss, so it is kept as one immutable sorted list.
 */
public final class Membership {

    private static final Logger LOG = LoggerFactory.getLogger(Membership.class);

    /** Failed checks in a row that make a live peer dead: one lost packet does not move its blobs. */
    static final int FAILURES_TO_DEAD = 2;

    private final NodeAddress self;
    /** Per known peer (not this node), its failed checks in a row; live ones are in {@link #live} too. */
    private final Map<NodeAddress, Integer> failures = new HashMap<>();
    private final Set<NodeAddress> livePeers = new TreeSet<>();
    private volatile List<NodeAddress> live;

    /** A membership of this node alone until {@link #peers} names the others. */
    public Membership(NodeAddress self) {
        this.self = self;
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
        return List.copyOf(new TreeSet<>(failures.keySet()));
    }

    /**
     * The peers as configured or looked up now; new ones are taken once they answer a check,
     * ones no longer named leave at once. This node is ignored if named.
     */
    public synchronized void peers(Collection<NodeAddress> named) {
        Set<NodeAddress> wanted = new TreeSet<>(named);
        wanted.remove(self);
        for (NodeAddress gone : new ArrayList<>(failures.keySet())) {
            if (!wanted.contains(gone)) {
                failures.remove(gone);
                if (livePeers.remove(gone)) {
                    LOG.info("cluster: peer {} is no longer named; {} nodes live", gone, livePeers.size() + 1);
                }
            }
        }
        for (NodeAddress peer : wanted) {
            failures.putIfAbsent(peer, FAILURES_TO_DEAD);
        }
        publish();
    }

    /** A health check of {@code peer} was answered. */
    public synchronized void answered(NodeAddress peer) {
        if (!failures.containsKey(peer)) {
            return;
        }
        failures.put(peer, 0);
        if (livePeers.add(peer)) {
            LOG.info("cluster: peer {} is live; {} nodes live", peer, livePeers.size() + 1);
            publish();
        }
    }

    /** A health check of {@code peer} failed (refused, timed out, wrong answer) for {@code reason}. */
    public synchronized void failed(NodeAddress peer, String reason) {
        Integer before = failures.get(peer);
        if (before == null) {
            return;
        }
        int now = before + 1;
        failures.put(peer, now);
        if (now >= FAILURES_TO_DEAD && livePeers.remove(peer)) {
            LOG.warn("cluster: peer {} is down ({}); {} nodes live, its blobs go to the others", peer, reason,
                    livePeers.size() + 1);
            publish();
        }
    }

    private void publish() {
        List<NodeAddress> all = new ArrayList<>(livePeers);
        all.add(self);
        all.sort(null);
        live = List.copyOf(all);
    }
}
