package dev.regmirror.core.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.regmirror.core.error.UpstreamUnavailableException;
import dev.regmirror.core.testing.ManualScheduler;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Health checks each interval on the timer, a dead peer noticed within two intervals, and DNS peers looked up again. */
class PeerWatchTest {

    private static final NodeAddress SELF = NodeAddress.parse("10.0.0.2:5000");
    private static final NodeAddress A = NodeAddress.parse("10.0.0.1:5000");
    private static final NodeAddress C = NodeAddress.parse("10.0.0.3:5000");

    private static ClusterSettings settings(List<NodeAddress> peers, Optional<NodeAddress> dns) {
        return new ClusterSettings(true, SELF, peers, dns, "0123456789abcdef", Duration.ofSeconds(1),
                Duration.ofSeconds(1), Duration.ofSeconds(10), ClusterSettings.Tls.OFF);
    }

    @Test
    void aPeerThatStopsAnsweringIsDeadWithinTwoIntervalsAndBackAtItsFirstAnswer() {
        ManualScheduler timer = new ManualScheduler();
        Membership members = new Membership(SELF, Clock.systemUTC());
        Map<NodeAddress, Boolean> up = new java.util.concurrent.ConcurrentHashMap<>(Map.of(A, true, C, true));
        List<NodeAddress> asked = new ArrayList<>();
        PeerWatch.Prober prober = peer -> {
            asked.add(peer);
            return up.get(peer) ? CompletableFuture.completedFuture(true)
                    : CompletableFuture.failedFuture(new java.net.ConnectException("Connection refused"));
        };
        new PeerWatch(settings(List.of(A, SELF, C), Optional.empty()), members, prober, name -> List.of(),
                Runnable::run).start(timer);
        timer.advance(Duration.ZERO);
        assertEquals(List.of(A, SELF, C), members.live());
        assertEquals(List.of(A, C), asked, "this node does not check itself");
        up.put(C, false);
        timer.advance(Duration.ofSeconds(1));
        assertEquals(List.of(A, SELF, C), members.live());
        timer.advance(Duration.ofSeconds(1));
        assertEquals(List.of(A, SELF), members.live(), "dead after two intervals");
        up.put(C, true);
        timer.advance(Duration.ofSeconds(1));
        assertEquals(List.of(A, SELF, C), members.live());
    }

    @Test
    void aCheckStillRunningIsNotStartedAgain() {
        ManualScheduler timer = new ManualScheduler();
        Membership members = new Membership(SELF, Clock.systemUTC());
        AtomicInteger checks = new AtomicInteger();
        CompletableFuture<Boolean> hanging = new CompletableFuture<>();
        new PeerWatch(settings(List.of(A, SELF), Optional.empty()), members, peer -> {
            checks.incrementAndGet();
            return hanging;
        }, name -> List.of(), Runnable::run).start(timer);
        timer.advance(Duration.ofSeconds(3));
        assertEquals(1, checks.get());
        hanging.complete(true);
        assertEquals(List.of(A, SELF), members.live());
    }

    @Test
    void dnsPeersAreLookedUpAgainEachDnsIntervalAndKeptWhenALookUpFails() throws Exception {
        ManualScheduler timer = new ManualScheduler();
        Membership members = new Membership(SELF, Clock.systemUTC());
        AtomicReference<List<InetAddress>> records = new AtomicReference<>(List.of(InetAddress.getByName("10.0.0.1"),
                InetAddress.getByName("10.0.0.2")));
        PeerWatch.Resolver resolver = name -> {
            assertEquals("regmirror.ns.svc", name);
            if (records.get() == null) {
                throw new UnknownHostException(name);
            }
            return records.get();
        };
        List<List<NodeAddress>> told = new ArrayList<>();
        PeerWatch.Prober prober = new PeerWatch.Prober() {
            @Override
            public CompletableFuture<Boolean> check(NodeAddress peer) {
                return CompletableFuture.completedFuture(true);
            }

            @Override
            public void peersAre(Collection<NodeAddress> peers) {
                told.add(List.copyOf(peers));
            }
        };
        new PeerWatch(settings(List.of(), Optional.of(NodeAddress.parse("regmirror.ns.svc:5000"))), members,
                prober, resolver, Runnable::run).start(timer);
        assertEquals(List.of(A), members.peers());
        timer.advance(Duration.ZERO);
        assertEquals(List.of(A, SELF), members.live());
        records.set(List.of(InetAddress.getByName("10.0.0.1"), InetAddress.getByName("10.0.0.2"),
                InetAddress.getByName("10.0.0.3")));
        timer.advance(Duration.ofSeconds(9));
        assertEquals(List.of(A), members.peers(), "not before the DNS interval");
        timer.advance(Duration.ofSeconds(1));
        assertEquals(List.of(A, C), members.peers());
        timer.advance(Duration.ofSeconds(1));
        assertEquals(List.of(A, SELF, C), members.live());
        records.set(List.of(InetAddress.getByName("10.0.0.2"), InetAddress.getByName("10.0.0.3")));
        timer.advance(Duration.ofSeconds(10));
        assertEquals(List.of(C), members.peers(), "10.0.0.1 is no longer named");
        records.set(null);
        timer.advance(Duration.ofSeconds(10));
        assertEquals(List.of(C), members.peers(), "a failed look-up keeps the peers known");
        assertEquals(List.of(List.of(A, SELF), List.of(A, SELF, C), List.of(SELF, C)), told,
                "the prober is told who the peers are at each look-up that answered, to drop what it kept for others");
    }

    @Test
    void aFailedCheckIsKeptAsWhatWasAttemptedAndWhatWentWrongNeverWithTheSecret() {
        ManualScheduler timer = new ManualScheduler();
        Membership members = new Membership(SELF, Clock.systemUTC());
        Map<NodeAddress, Throwable> failures = Map.of(
                A, new java.util.concurrent.CompletionException(new UpstreamUnavailableException("node " + A,
                        "get a health check answer from node " + A + ": connection refused",
                        new java.net.ConnectException("Connection refused"))),
                C, new IllegalStateException("wrapped", new java.io.IOException("sent 0123456789abcdef in clear")));
        new PeerWatch(settings(List.of(A, SELF, C), Optional.empty()), members,
                peer -> CompletableFuture.failedFuture(failures.get(peer)), name -> List.of(), Runnable::run)
                .start(timer);
        timer.advance(Duration.ZERO);
        assertEquals(Optional.of("get a health check answer from node " + A + ": connection refused"),
                members.nodes().get(0).lastError(), "a ProxyException's message, not its cause's");
        assertEquals(Optional.of("java.io.IOException: sent <the cluster secret> in clear"),
                members.nodes().get(2).lastError(), "the innermost cause otherwise, without the secret");
    }
}
