package dev.regmirror.core.auth;

import java.util.Objects;

/** Whether a caller may do an action on an image, decided before any upstream is contacted. */
public sealed interface AccessDecision {

    /** The one allowed decision. */
    AccessDecision ALLOWED = new Allowed();

    /** Go ahead. */
    record Allowed() implements AccessDecision {
    }

    /**
     * Not as the caller is now, but an account could be: the server answers 401 UNAUTHORIZED with
     * a challenge, so that the client signs in (or fetches a token for the right scope).
     */
    record NeedsAccount(String message) implements AccessDecision {

        public NeedsAccount {
            Objects.requireNonNull(message, "message");
        }
    }

    /** Refused whoever signs in: the server answers 403 DENIED with the message, which names the image and the caller. */
    record Denied(String message) implements AccessDecision {

        public Denied {
            Objects.requireNonNull(message, "message");
        }
    }
}
