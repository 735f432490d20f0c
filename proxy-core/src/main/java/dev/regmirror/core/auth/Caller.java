package dev.regmirror.core.auth;

/** Who is asking: an anonymous caller, or an {@link Account} that signed in. */
public sealed interface Caller permits Caller.Anonymous, Account {

    /** The caller that presented no credentials. */
    Caller ANONYMOUS = new Anonymous();

    /** The token subject for this caller: the account name, or {@code ""} when anonymous. */
    String subject();

    /** How messages name the caller: {@code account alice} or {@code anonymous callers}. */
    String describe();

    /** A caller without an account. */
    record Anonymous() implements Caller {

        @Override
        public String subject() {
            return "";
        }

        @Override
        public String describe() {
            return "anonymous callers";
        }
    }
}
