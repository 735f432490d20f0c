package dev.regmirror.core.upstream;

import java.time.Duration;
import java.util.Objects;

/**
 * What regmirror allows itself against one upstream: at most {@code maxConnections} requests in
 * flight at once and {@code maxRequestsPerSecond} started per second on average (0: no limit for
 * either); a request over a limit waits its turn, for at most {@code maxWait}.
 *
 * @param setting              the upstream's block, {@code regmirror.upstreams.<id>}, which messages
 *                             name with the key of the limit a request waited for
 * @param maxConnections       requests in flight at once, a blob's until its body is read or given up;
 *                             0 for no limit
 * @param maxRequestsPerSecond requests started per second, up to one second's worth at once; 0 for no limit
 * @param maxWait              the longest a request waits for its turn (the upstream's read timeout)
 */
public record UpstreamLimits(String setting, int maxConnections, double maxRequestsPerSecond, Duration maxWait) {

    public UpstreamLimits {
        Objects.requireNonNull(setting, "setting");
        Objects.requireNonNull(maxWait, "maxWait");
        if (maxConnections < 0 || !(maxRequestsPerSecond >= 0) || Double.isInfinite(maxRequestsPerSecond)) {
            throw new IllegalArgumentException("limits must be 0 (none) or positive: " + maxConnections + ", "
                    + maxRequestsPerSecond);
        }
        if (maxWait.isNegative() || maxWait.isZero()) {
            throw new IllegalArgumentException("maxWait must be positive, was " + maxWait);
        }
    }

    /** Whether either limit is set; without one, requests go to the upstream as they come. */
    public boolean any() {
        return maxConnections > 0 || maxRequestsPerSecond > 0;
    }

    /** The rate as messages write it: {@code 5}, {@code 0.5}. */
    public String perSecond() {
        return maxRequestsPerSecond == Math.rint(maxRequestsPerSecond)
                ? String.valueOf((long) maxRequestsPerSecond) : String.valueOf(maxRequestsPerSecond);
    }
}
