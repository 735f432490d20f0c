package dev.regmirror.core.auth.token;

import dev.regmirror.core.auth.Action;
import dev.regmirror.core.upstream.Route;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/** The outcome of checking a bearer token: valid, with whom it is for and what it grants, or not. */
public sealed interface TokenCheck {

    /**
     * A token regmirror signed, for this audience, within its lifetime.
     *
     * @param subject   the account it was issued to, {@code ""} for an anonymous caller
     * @param access    what it grants: repository scopes named by route ({@code docker.io/library/alpine})
     * @param expiresAt when it expires
     */
    record Valid(String subject, List<Scope> access, Instant expiresAt) implements TokenCheck {

        public Valid {
            Objects.requireNonNull(subject, "subject");
            access = List.copyOf(access);
            Objects.requireNonNull(expiresAt, "expiresAt");
        }

        /**
         * Whether the token grants the action on the image a request was routed to. Access is
         * granted by route rather than by the name in the URL, which alone does not say the
         * registry (containerd's {@code ?ns=}, a Host per upstream).
         */
        public boolean allows(Route route, Action action) {
            String name = route.toString();
            return access.stream().anyMatch(scope -> scope.isRepository() && scope.name().equals(name)
                    && scope.actions().contains(action.wire()));
        }
    }

    /** Forged, expired, for another audience, malformed: the reason is for the log. */
    record Invalid(String reason) implements TokenCheck {

        public Invalid {
            Objects.requireNonNull(reason, "reason");
        }
    }
}
