package dev.regmirror.core.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Who is live: this node always, a peer once it answers, no longer after two failed checks in a row. */
class MembershipTest {

    private static final NodeAddress SELF = NodeAddress.parse("10.0.0.2:5000");
    private static final NodeAddress A = NodeAddress.parse("10.0.0.1:5000");
    private static final NodeAddress C = NodeAddress.parse("10.0.0.3:5000");

    @Test
    void peersAreLiveFromTheirFirstAnswerAndDeadAfterTwoFailuresInARow() {
        Membership members = new Membership(SELF);
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
    void peersNoLongerNamedLeaveAtOnceAndUnknownOnesAreIgnored() {
        Membership members = new Membership(SELF);
        members.peers(List.of(A, C));
        members.answered(A);
        members.answered(C);
        members.peers(List.of(A));
        assertEquals(List.of(A, SELF), members.live());
        members.answered(C);
        assertEquals(List.of(A, SELF), members.live(), "an answer of a peer no longer named changes nothing");
        assertEquals(List.of(A), members.peers());
    }
}
