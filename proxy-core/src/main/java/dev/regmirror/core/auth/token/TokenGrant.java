package dev.regmirror.core.auth.token;

import java.util.Objects;

/** What the token endpoint answers a valid request: a token, or a refusal. */
public sealed interface TokenGrant {

    /** A token granting what the access rules allow of what was asked; possibly nothing. */
    record Issued(IssuedToken token) implements TokenGrant {

        public Issued {
            Objects.requireNonNull(token, "token");
        }
    }

    /** A request for another service, or on behalf of another account: the server answers 400 with the message. */
    record Refused(String message) implements TokenGrant {

        public Refused {
            Objects.requireNonNull(message, "message");
        }
    }
}
