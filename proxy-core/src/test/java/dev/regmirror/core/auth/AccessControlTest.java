package dev.regmirror.core.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.regmirror.core.reference.RepositoryName;
import dev.regmirror.core.upstream.Route;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A request's Authorization header through to a decision, with real bcrypt accounts. */
class AccessControlTest {

    private static final Route PRIVATE = new Route("ghcr.io", new RepositoryName("myorg/app"));
    private static final Route PUBLIC = new Route("docker.io", new RepositoryName("library/alpine"));

    @TempDir
    Path dir;

    private AccessControl control;

    private static Authorization basic(String user, String password) {
        return Authorization.parse("Basic " + Base64.getEncoder().encodeToString((user + ":" + password)
                .getBytes(StandardCharsets.UTF_8)));
    }

    @BeforeEach
    void setUp() throws IOException {
        Path file = dir.resolve("htpasswd");
        Files.writeString(file, "alice:" + AccountsTest.bcrypt("2y", "alice-pw") + "\nmallory:"
                + AccountsTest.bcrypt("2b", "mallory-pw") + "\n");
        AccessPolicy policy = new AccessPolicy(List.of(
                new AccessRule(List.of(new ImagePattern("ghcr.io/myorg/**")), Set.of(Action.PULL),
                        Optional.of(List.of(Principal.parse("alice"))), List.of()),
                new AccessRule(List.of(new ImagePattern("**")), Set.of(Action.PULL), Optional.of(List.of(Principal.ANONYMOUS)),
                        List.of())), Set.of());
        BearerCheck bearer = (token, route, action) -> token.equals("good")
                ? AccessDecision.ALLOWED : new AccessDecision.NeedsAccount("invalid token: bad signature");
        control = new AccessControl(Accounts.open(file, Set.of("alice"), () -> 0L), policy, bearer);
    }

    @Test
    void withoutCredentialsTheRulesDecideForAnAnonymousCaller() {
        assertEquals(AccessDecision.ALLOWED, control.decide(Authorization.NONE, PUBLIC, Action.PULL));
        assertEquals(new AccessDecision.NeedsAccount("pull of ghcr.io/myorg/app needs a signed-in account"),
                control.decide(Authorization.NONE, PRIVATE, Action.PULL));
    }

    @Test
    void basicCredentialsAreVerifiedThenTheRulesDecideForTheAccount() {
        assertEquals(AccessDecision.ALLOWED, control.decide(basic("alice", "alice-pw"), PRIVATE, Action.PULL));
        assertEquals(new AccessDecision.Denied("pull of ghcr.io/myorg/app is denied to account mallory"),
                control.decide(basic("mallory", "mallory-pw"), PRIVATE, Action.PULL));
        assertEquals(new AccessDecision.NeedsAccount("sign-in failed: wrong password for account alice"),
                control.decide(basic("alice", "nope"), PUBLIC, Action.PULL), "wrong credentials are never anonymous");
        assertEquals(new AccessDecision.NeedsAccount("sign-in failed: unknown account bob"),
                control.decide(basic("bob", "x"), PUBLIC, Action.PULL));
    }

    @Test
    void bearerTokensGoToTheTokenServiceAndMalformedHeadersNeedASignIn() {
        assertEquals(AccessDecision.ALLOWED, control.decide(Authorization.parse("Bearer good"), PRIVATE, Action.PULL));
        assertEquals(new AccessDecision.NeedsAccount("invalid token: bad signature"),
                control.decide(Authorization.parse("Bearer forged"), PRIVATE, Action.PULL));
        assertEquals(new AccessDecision.NeedsAccount("malformed Authorization header: Basic credentials are not valid base64"),
                control.decide(Authorization.parse("Basic YW-_Yg"), PUBLIC, Action.PULL));
        assertEquals(new AccessDecision.NeedsAccount("this mirror issues no tokens: sign in with a user name and password"),
                BearerCheck.NONE.authorize("x", PUBLIC, Action.PULL));
    }

    @Test
    void signInForTheTokenEndpoint() {
        assertEquals(new AccessControl.SignIn.SignedIn(Caller.ANONYMOUS), control.signIn(Authorization.NONE));
        assertEquals(new AccessControl.SignIn.SignedIn(new Account("alice", true)),
                control.signIn(basic("alice", "alice-pw")));
        assertEquals(new AccessControl.SignIn.SignedIn(new Account("mallory", false)),
                control.signIn(new Authorization.Basic(new BasicCredentials("mallory", "mallory-pw"))));
        assertEquals(new AccessControl.SignIn.Refused("sign-in failed: wrong password for account alice"),
                control.signIn(basic("alice", "mallory-pw")));
        assertEquals(new AccessControl.SignIn.Refused("a bearer token does not sign in: send a user name and password"),
                control.signIn(Authorization.parse("Bearer good")));
        assertEquals(new AccessControl.SignIn.Refused("malformed Authorization header: a Bearer header holds one token"),
                control.signIn(Authorization.parse("Bearer")));
    }
}
