package dev.regmirror.core.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.regmirror.core.reference.RepositoryName;
import dev.regmirror.core.upstream.Route;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Who may pull what, as tables of caller, image, action and decision. */
class AccessPolicyTest {

    private static final Caller ANON = Caller.ANONYMOUS;
    private static final Caller ALICE = new Account("alice", false);
    private static final Caller BOB = new Account("bob", false);
    private static final Caller MALLORY = new Account("mallory", false);
    private static final Caller ADMIN = new Account("root", true);

    private static Route route(String image) {
        int slash = image.indexOf('/');
        return new Route(image.substring(0, slash), new RepositoryName(image.substring(slash + 1)));
    }

    private static List<Principal> principals(String... names) {
        return Arrays.stream(names).map(Principal::parse).toList();
    }

    private static AccessRule allow(String image, String... who) {
        return new AccessRule(List.of(new ImagePattern(image)), Set.of(Action.PULL), Optional.of(principals(who)), List.of());
    }

    private static AccessRule deny(String image, String... who) {
        return new AccessRule(List.of(new ImagePattern(image)), Set.of(Action.PULL), Optional.empty(), principals(who));
    }

    /** A short name for a decision, to keep the tables readable. */
    private static String outcome(AccessDecision decision) {
        if (decision instanceof AccessDecision.Allowed) {
            return "allowed";
        }
        return decision instanceof AccessDecision.NeedsAccount ? "needs-account" : "denied";
    }

    private static void check(AccessPolicy policy, Object[][] table) {
        for (Object[] row : table) {
            Caller caller = (Caller) row[0];
            Action action = row.length > 3 ? (Action) row[3] : Action.PULL;
            assertEquals(row[2], outcome(policy.decide(caller, route((String) row[1]), action)),
                    caller.describe() + " " + action.wire() + " " + row[1]);
        }
    }

    @Test
    void withNoRulesEveryoneMayPullEverythingAndNothingElse() {
        check(AccessPolicy.open(), new Object[][] {
            {ANON, "docker.io/library/alpine", "allowed"},
            {ANON, "ghcr.io/org/tool", "allowed"},
            {ALICE, "quay.io/x/y", "allowed"},
            {ANON, "docker.io/library/alpine", "denied", Action.PUSH},
            {ADMIN, "docker.io/library/alpine", "denied", Action.DELETE},
        });
    }

    @Test
    void firstCoveringRuleDecidesAndNoneCoveringIsDenied() {
        AccessPolicy policy = new AccessPolicy(List.of(
                allow("ghcr.io/myorg/**", "alice", "bob"),
                allow("nvcr.io/**", "authenticated"),
                deny("docker.io/library/*", "mallory"),
                allow("docker.io/**", "anonymous")), Set.of());
        check(policy, new Object[][] {
            {ANON, "ghcr.io/myorg/app", "needs-account"},
            {ALICE, "ghcr.io/myorg/team/app", "allowed"},
            {BOB, "ghcr.io/myorg/app", "allowed"},
            {MALLORY, "ghcr.io/myorg/app", "denied"},
            {ADMIN, "ghcr.io/myorg/app", "denied"},
            {ANON, "nvcr.io/nvidia/cuda", "needs-account"},
            {MALLORY, "nvcr.io/nvidia/cuda", "allowed"},
            {ANON, "docker.io/library/alpine", "allowed"},
            {ALICE, "docker.io/library/alpine", "allowed"},
            {MALLORY, "docker.io/library/alpine", "denied"},
            {MALLORY, "docker.io/mallory/tool", "allowed"},
            {ANON, "ghcr.io/other/app", "denied"},
            {ALICE, "quay.io/x/y", "denied"},
            {ALICE, "docker.io/library/alpine", "denied", Action.PUSH},
        });
    }

    @Test
    void anAccountMayDoWhatAnonymousCallersMayUnlessDenied() {
        AccessPolicy policy = new AccessPolicy(List.of(
                new AccessRule(List.of(new ImagePattern("**")), Set.of(Action.PULL), Optional.of(principals("anonymous")),
                        principals("mallory"))), Set.of());
        check(policy, new Object[][] {
            {ANON, "docker.io/library/alpine", "allowed"},
            {ALICE, "docker.io/library/alpine", "allowed"},
            {MALLORY, "docker.io/library/alpine", "denied"},
        });
    }

    @Test
    void allowAndDenyTogetherAndEmptyAllow() {
        AccessPolicy policy = new AccessPolicy(List.of(
                new AccessRule(List.of(new ImagePattern("ghcr.io/**")), Set.of(Action.PULL),
                        Optional.of(principals("authenticated")), principals("mallory")),
                allow("quay.io/blocked/*"),
                deny("quay.io/**", "anonymous"),
                deny("gcr.io/**", "anonymous", "authenticated")), Set.of());
        check(policy, new Object[][] {
            {ANON, "ghcr.io/a/b", "needs-account"},
            {ALICE, "ghcr.io/a/b", "allowed"},
            {MALLORY, "ghcr.io/a/b", "denied"},
            {ANON, "quay.io/blocked/x", "denied"},
            {ALICE, "quay.io/blocked/x", "denied"},
            {ANON, "quay.io/open/x", "needs-account"},
            {ALICE, "quay.io/open/x", "allowed"},
            {ANON, "gcr.io/a/b", "denied"},
            {ALICE, "gcr.io/a/b", "denied"},
        });
    }

    @Test
    void aRuleCoversOnlyItsActions() {
        AccessPolicy policy = new AccessPolicy(List.of(
                new AccessRule(List.of(new ImagePattern("registry.lan:5000/**")), Set.of(Action.PUSH, Action.DELETE),
                        Optional.of(principals("alice")), List.of()),
                allow("**", "anonymous")), Set.of());
        check(policy, new Object[][] {
            {ALICE, "registry.lan:5000/team/app", "allowed", Action.PUSH},
            {BOB, "registry.lan:5000/team/app", "denied", Action.PUSH},
            {ANON, "registry.lan:5000/team/app", "needs-account", Action.DELETE},
            {BOB, "registry.lan:5000/team/app", "allowed", Action.PULL},
            {ALICE, "docker.io/library/alpine", "denied", Action.PUSH},
        });
    }

    @Test
    void anUpstreamForAccountsOnlyTurnsAnonymousCallersAwayBeforeTheRules() {
        check(new AccessPolicy(List.of(), Set.of("nvcr.io")), new Object[][] {
            {ANON, "nvcr.io/nvidia/cuda", "needs-account"},
            {ALICE, "nvcr.io/nvidia/cuda", "allowed"},
            {ANON, "docker.io/library/alpine", "allowed"},
        });
        check(new AccessPolicy(List.of(deny("nvcr.io/**", "mallory"), allow("**", "anonymous")), Set.of("nvcr.io")),
                new Object[][] {
                    {ANON, "nvcr.io/nvidia/cuda", "needs-account"},
                    {ALICE, "nvcr.io/nvidia/cuda", "allowed"},
                    {MALLORY, "nvcr.io/nvidia/cuda", "denied"},
                });
    }

    @Test
    void messagesNameTheActionTheImageAndTheCaller() {
        AccessPolicy policy = new AccessPolicy(List.of(allow("ghcr.io/myorg/**", "alice")), Set.of("nvcr.io"));
        assertEquals(new AccessDecision.Denied("pull of ghcr.io/myorg/app is denied to account bob"),
                policy.decide(BOB, route("ghcr.io/myorg/app"), Action.PULL));
        assertEquals(new AccessDecision.NeedsAccount("pull of ghcr.io/myorg/app needs a signed-in account"),
                policy.decide(ANON, route("ghcr.io/myorg/app"), Action.PULL));
        assertEquals(new AccessDecision.Denied("pull of quay.io/x/y is denied to anonymous callers: no access rule covers it"),
                policy.decide(ANON, route("quay.io/x/y"), Action.PULL));
        assertEquals(new AccessDecision.NeedsAccount("pull of nvcr.io/nvidia/cuda needs a signed-in account: nvcr.io is "
                + "for signed-in accounts only"), policy.decide(ANON, route("nvcr.io/nvidia/cuda"), Action.PULL));
    }
}
