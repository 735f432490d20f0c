package dev.regmirror.core.cluster;

import dev.regmirror.core.error.ProxyException;
import dev.regmirror.core.mirror.Futures;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a {@link Membership} current: checks every peer's health each interval (one check per peer
 * at a time, each with its own timeout in the prober), and, for peers named by DNS, looks the name up
 * again each DNS interval on the lookup executor, never on the timer's thread.
 */
public final class PeerWatch {

    private static final Logger LOG = LoggerFactory.getLogger(PeerWatch.class);

    /** Asks one peer whether it is up; the future fails (or completes false) when it is not. */
    public interface Prober {
        CompletableFuture<Boolean> check(NodeAddress peer);

        /** The peers are now these: what was kept for any other (clients, connections) may go. */
        default void peersAre(Collection<NodeAddress> peers) {
        }
    }

    /** Looks a DNS name up (blocking). */
    public interface Resolver {
        List<InetAddress> resolve(String name) throws UnknownHostException;
    }

    private final ClusterSettings settings;
    private final Membership membership;
    private final Prober prober;
    private final Resolver resolver;
    private final Executor lookups;
    private final Set<NodeAddress> checking = ConcurrentHashMap.newKeySet();

    public PeerWatch(ClusterSettings settings, Membership membership, Prober prober, Resolver resolver,
                     Executor lookups) {
        this.settings = settings;
        this.membership = membership;
        this.prober = prober;
        this.resolver = resolver;
        this.lookups = lookups;
    }

    /** The system's resolver: every A and AAAA record of the name. */
    public static List<InetAddress> systemResolver(String name) throws UnknownHostException {
        return List.of(InetAddress.getAllByName(name));
    }

    /** Names the peers and schedules their checks (and DNS lookups) on {@code scheduler}. */
    public void start(ScheduledExecutorService scheduler) {
        if (settings.peersDns().isPresent()) {
            lookups.execute(this::lookUp);
            repeat(scheduler, () -> lookups.execute(this::lookUp), settings.dnsInterval().toMillis(),
                    settings.dnsInterval().toMillis());
        } else {
            membership.peers(settings.peers());
        }
        repeat(scheduler, this::checkAll, 0, settings.healthInterval().toMillis());
    }

    /** Runs {@code work} after {@code first} ms and then every {@code every} ms until the scheduler shuts down. */
    private static void repeat(ScheduledExecutorService scheduler, Runnable work, long first, long every) {
        try {
            scheduler.schedule(() -> {
                try {
                    work.run();
                } catch (RuntimeException e) {
                    LOG.warn("cluster: {}", e.toString());
                }
                repeat(scheduler, work, every, every);
            }, first, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException shutDown) {
            // The node is stopping.
        }
    }

    /** One round of checks; a peer whose last check has not ended yet is skipped. */
    void checkAll() {
        for (NodeAddress peer : membership.peers()) {
            if (!checking.add(peer)) {
                continue;
            }
            CompletableFuture<Boolean> check;
            try {
                check = prober.check(peer);
            } catch (RuntimeException e) {
                check = CompletableFuture.failedFuture(e);
            }
            check.whenComplete((up, failure) -> {
                checking.remove(peer);
                if (failure == null && Boolean.TRUE.equals(up)) {
                    membership.answered(peer);
                } else {
                    membership.failed(peer, failure == null ? "wrong answer" : reason(failure));
                }
            });
        }
    }

    /** Looks the peers' DNS name up; on failure the peers known before are kept. */
    void lookUp() {
        NodeAddress name = settings.peersDns().orElseThrow();
        try {
            List<NodeAddress> named = resolver.resolve(name.host()).stream()
                    .map(address -> new NodeAddress(address.getHostAddress(), name.port())).toList();
            membership.peers(named);
            prober.peersAre(named);
        } catch (UnknownHostException | RuntimeException e) {
            LOG.warn("cluster: cannot look up the peers' name {}: {}; keeping the peers known before", name.host(),
                    e.toString());
        }
    }

    /**
     * Why a check failed, as the admin API shows it and the log says it: a ProxyException's message
     * (what was attempted, at which URL, and what went wrong), else the innermost cause; never the
     * cluster's secret, should anything below ever quote it.
     */
    String reason(Throwable failure) {
        Throwable cause = Futures.unwrap(failure);
        if (!(cause instanceof ProxyException)) {
            while (cause.getCause() != null && cause.getCause() != cause) {
                cause = cause.getCause();
            }
        }
        String reason = cause instanceof ProxyException ? cause.getMessage() : cause.toString();
        return settings.secret().isEmpty() ? reason : reason.replace(settings.secret(), "<the cluster secret>");
    }

}
