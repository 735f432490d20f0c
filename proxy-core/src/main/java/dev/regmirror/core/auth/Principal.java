package dev.regmirror.core.auth;

import dev.regmirror.core.error.Printable;
import java.util.Objects;

/**
 * Whom an access rule names: {@code anonymous} (callers that did not sign in), {@code authenticated}
 * (every account) or one account by name.
 */
public sealed interface Principal {

    Principal ANONYMOUS = new Anonymous();
    Principal AUTHENTICATED = new Authenticated();

    /** Reads a principal as the settings write it; the two words win over accounts of the same name. */
    static Principal parse(String value) {
        return switch (value) {
            case "anonymous" -> ANONYMOUS;
            case "authenticated" -> AUTHENTICATED;
            default -> new Named(value);
        };
    }

    /** Whether the caller is this principal. */
    boolean includes(Caller caller);

    /** Callers that did not sign in. */
    record Anonymous() implements Principal {

        @Override
        public boolean includes(Caller caller) {
            return caller instanceof Caller.Anonymous;
        }

        @Override
        public String toString() {
            return "anonymous";
        }
    }

    /** Every signed-in account. */
    record Authenticated() implements Principal {

        @Override
        public boolean includes(Caller caller) {
            return caller instanceof Account;
        }

        @Override
        public String toString() {
            return "authenticated";
        }
    }

    /** One account. */
    record Named(String account) implements Principal {

        public Named {
            Objects.requireNonNull(account, "account");
            if (!Account.isValidName(account)) {
                throw new IllegalArgumentException("\"" + Printable.of(account) + "\" is not an account name");
            }
        }

        @Override
        public boolean includes(Caller caller) {
            return caller instanceof Account signedIn && signedIn.name().equals(account);
        }

        @Override
        public String toString() {
            return account;
        }
    }
}
