package dev.regmirror.core.cluster;

import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * One node of the cluster as this node sees it, for the admin API: whether it is this node, its
 * state and since when, its failed health checks in a row, and the last check that failed and when
 * (kept after the node answers again).
 *
 * @param since when it entered its state; empty for this node, live from its start
 */
public record NodeStatus(NodeAddress node, boolean self, State state, Optional<Instant> since, int failedChecks,
                         Optional<String> lastError, Optional<Instant> lastErrorAt) {

    /** Where a node stands in the membership. */
    public enum State {
        /** Named, but it has not answered a health check yet. */
        JOINING,
        /** It answers: it owns its share of the blobs. */
        LIVE,
        /** It stopped answering: its blobs have gone to the others. */
        DOWN;

        /** The word the admin API and the CLI use: {@code joining}, {@code live}, {@code down}. */
        public String word() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    public NodeStatus {
        Objects.requireNonNull(node, "node");
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(since, "since");
        Objects.requireNonNull(lastError, "lastError");
        Objects.requireNonNull(lastErrorAt, "lastErrorAt");
    }
}
