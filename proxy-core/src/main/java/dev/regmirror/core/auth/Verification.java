package dev.regmirror.core.auth;

import java.util.Objects;

/** The outcome of checking a user name and password against the accounts. */
public sealed interface Verification {

    /** The password is the account's. */
    record Verified(Account account) implements Verification {

        public Verified {
            Objects.requireNonNull(account, "account");
        }
    }

    /**
     * Unknown account or wrong password; the reason (for the log, not the client) names the
     * account, never the password.
     */
    record Rejected(String reason) implements Verification {

        public Rejected {
            Objects.requireNonNull(reason, "reason");
        }
    }
}
