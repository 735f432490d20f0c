package dev.regmirror.core.auth;

import dev.regmirror.core.upstream.Route;
import java.util.Objects;

/**
 * What the server asks per request, on a worker thread since it verifies passwords and tokens: who
 * the caller is, from the {@code Authorization} header, and whether it may do an action on an image.
 */
public final class AccessControl {

    private final Accounts accounts;
    private final AccessPolicy policy;
    private final BearerCheck bearer;

    public AccessControl(Accounts accounts, AccessPolicy policy, BearerCheck bearer) {
        this.accounts = Objects.requireNonNull(accounts, "accounts");
        this.policy = Objects.requireNonNull(policy, "policy");
        this.bearer = Objects.requireNonNull(bearer, "bearer");
    }

    /**
     * Decides a registry API request. No credentials: the rules decide for an anonymous caller.
     * Basic credentials: verified, then the rules decide for the account; wrong ones need a
     * sign-in (401). A bearer token: the token service decides. A malformed header needs a sign-in.
     * Slow (bcrypt, ECDSA) when not remembered: call it on a worker thread, never an event loop.
     */
    public AccessDecision decide(Authorization authorization, Route route, Action action) {
        Objects.requireNonNull(authorization, "authorization");
        if (authorization instanceof Authorization.Bearer token) {
            return bearer.authorize(token.token(), route, action);
        }
        SignIn signIn = signIn(authorization);
        if (signIn instanceof SignIn.Refused refused) {
            return new AccessDecision.NeedsAccount(refused.reason());
        }
        return policy.decide(((SignIn.SignedIn) signIn).caller(), route, action);
    }

    /**
     * Who a token request comes from: anonymous without credentials, the account of valid Basic
     * credentials (from the header, or an OAuth2 password grant as {@link Authorization.Basic});
     * anything else is refused, and the token endpoint answers 401.
     */
    public SignIn signIn(Authorization authorization) {
        if (authorization instanceof Authorization.None) {
            return new SignIn.SignedIn(Caller.ANONYMOUS);
        }
        if (authorization instanceof Authorization.Basic basic) {
            Verification verification = accounts.verify(basic.credentials());
            return verification instanceof Verification.Verified verified ? new SignIn.SignedIn(verified.account())
                    : new SignIn.Refused("sign-in failed: " + ((Verification.Rejected) verification).reason());
        }
        if (authorization instanceof Authorization.Malformed malformed) {
            return new SignIn.Refused("malformed Authorization header: " + malformed.reason());
        }
        return new SignIn.Refused("a bearer token does not sign in: send a user name and password");
    }

    /** Who the caller is, or why it is not let in. */
    public sealed interface SignIn {

        /** The caller: anonymous, or an account whose password was verified. */
        record SignedIn(Caller caller) implements SignIn {

            public SignedIn {
                Objects.requireNonNull(caller, "caller");
            }
        }

        /** Wrong or malformed credentials; the reason (for the log) never holds the password. */
        record Refused(String reason) implements SignIn {

            public Refused {
                Objects.requireNonNull(reason, "reason");
            }
        }
    }
}
