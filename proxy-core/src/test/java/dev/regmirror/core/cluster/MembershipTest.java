package dev.regmirror.core.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.regmirror.core.cluster.NodeStatus.State;
import dev.regmirror.core.testing.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Who is live: this node always, a peer once it answers, no longer after two failed checks in a row. */
class MembershipTest {

    private static final NodeAddress SELF = NodeAddress.parse("10.0.0.2:5000");
    private static final NodeAddress A = NodeAddress.parse("10.0.0.1:5000");
    private static final NodeAddress C = NodeAddress.parse("10.0.0.3:5000");
    private static final Instant START = Instant.parse("2026-12-03T10:00:00Z");

    @Test
    void peersAreLiveFromTheirFirstAnswerAndDeadAfterTwoFailuresInARow() {
        Membership members = new Membership(SELF, new MutableClock(START));
        members.peers(List.of(A, SELF, C));
        assertEquals(List.of(A, C), members.peers(), "this node is not its own peer");
        assertEquals(List.of(SELF), members.live(), "named peers are not live before they answer");
        members.answered(A);
        members.answered(C);
        assertEquals(List.of(A, SELF, C), members.live());
        members.failed(C, "connection refused");
        assertEquals(List.of(A, SELF, C), members.live(), "one failed check is not enough");
        members.answered(C);
        members.failed(C, "connection refused");
        assertEquals(List.of(A, SELF, C), members.live(), "an answer in between starts the count again");
        members.failed(C, "timed out");
        assertEquals(List.of(A, SELF), members.live());
        members.answered(C);
        assertEquals(List.of(A, SELF, C), members.live(), "a recovered peer is taken back at its first answer");
    }

    @Test
    void eachPeerIsJoiningThenLiveThenDownThenLiveSinceTheClockSaysWithItsLastFailureKept() {
        MutableClock clock = new MutableClock(START);
        Membership members = new Membership(SELF, clock);
        members.peers(List.of(A, SELF, C));
        assertEquals(List.of(
                new NodeStatus(A, false, State.JOINING, Optional.of(START), 0, Optional.empty(), Optional.empty()),
                new NodeStatus(SELF, true, State.LIVE, Optional.empty(), 0, Optional.empty(), Optional.empty()),
                new NodeStatus(C, false, State.JOINING, Optional.of(START), 0, Optional.empty(), Optional.empty())),
                members.nodes(), "named, never answered: joining since they were named");

        clock.advance(Duration.ofSeconds(1));
        members.failed(A, "connection refused");
        members.answered(C);
        Instant cameUp = clock.instant();
        assertEquals(new NodeStatus(A, false, State.JOINING, Optional.of(START), 1,
                Optional.of("connection refused"), Optional.of(cameUp)), members.nodes().get(0),
                "a peer that never answered stays joining however often it fails");
        assertEquals(new NodeStatus(C, false, State.LIVE, Optional.of(cameUp), 0, Optional.empty(), Optional.empty()),
                members.nodes().get(2));

        clock.advance(Duration.ofSeconds(1));
        members.failed(C, "connection refused");
        Instant firstFailure = clock.instant();
        assertEquals(new NodeStatus(C, false, State.LIVE, Optional.of(cameUp), 1, Optional.of("connection refused"),
                Optional.of(firstFailure)), members.nodes().get(2), "one failure: still live, since it came up");
        clock.advance(Duration.ofSeconds(1));
        members.failed(C, "no response within 1s");
        Instant wentDown = clock.instant();
        NodeStatus down = new NodeStatus(C, false, State.DOWN, Optional.of(wentDown), 2,
                Optional.of("no response within 1s"), Optional.of(wentDown));
        assertEquals(down, members.nodes().get(2), "down since the second failure, which is the last error");
        clock.advance(Duration.ofSeconds(1));
        members.failed(C, "connection refused");
        assertEquals(new NodeStatus(C, false, State.DOWN, Optional.of(wentDown), 3, Optional.of("connection refused"),
                Optional.of(clock.instant())), members.nodes().get(2), "still down since then, its count going on");

        clock.advance(Duration.ofSeconds(1));
        Instant lastError = clock.instant().minusSeconds(1);
        members.answered(C);
        assertEquals(new NodeStatus(C, false, State.LIVE, Optional.of(clock.instant()), 0,
                Optional.of("connection refused"), Optional.of(lastError)), members.nodes().get(2),
                "live again since its answer; its last failure is still shown");
        assertEquals(List.of(SELF, C), members.live());
    }

    @Test
    void theLiveListIsOnePublishedListThatChecksOnlyReplaceWhenTheLiveSetChanges() {
        Membership members = new Membership(SELF, new MutableClock(START));
        members.peers(List.of(A, C));
        members.answered(A);
        List<NodeAddress> published = members.live();
        members.answered(A);
        members.failed(A, "connection refused");
        members.failed(C, "connection refused");
        members.nodes();
        assertSame(published, members.live(), "answers, single failures and reads of the states publish nothing");
        members.failed(A, "connection refused");
        assertEquals(List.of(SELF), members.live());
    }

    @Test
    void peersNoLongerNamedLeaveAtOnceAndUnknownOnesAreIgnored() {
        Membership members = new Membership(SELF, new MutableClock(START));
        members.peers(List.of(A, C));
        members.answered(A);
        members.answered(C);
        members.peers(List.of(A));
        assertEquals(List.of(A, SELF), members.live());
        members.answered(C);
        members.failed(C, "connection refused");
        assertEquals(List.of(A, SELF), members.live(), "an answer of a peer no longer named changes nothing");
        assertEquals(List.of(A), members.peers());
        assertEquals(List.of(A, SELF), members.nodes().stream().map(NodeStatus::node).toList());
        members.peers(List.of(A));
        assertEquals(State.LIVE, members.nodes().get(0).state(), "named again: its state is kept");
    }
}
