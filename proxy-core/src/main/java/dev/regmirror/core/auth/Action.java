package dev.regmirror.core.auth;

import java.util.Locale;
import java.util.Optional;

/**
 * What a caller wants to do with an image, as the actions of a
 * <a href="https://distribution.github.io/distribution/spec/auth/scope/#resource-scope-grammar">token
 * scope</a> name it: pull, and push and delete for hosted repositories.
 */
public enum Action {
    PULL, PUSH, DELETE;

    /** The action as scopes write it: {@code pull}. */
    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The action a scope names, if it is one of these. */
    public static Optional<Action> fromWire(String value) {
        for (Action action : values()) {
            if (action.wire().equals(value)) {
                return Optional.of(action);
            }
        }
        return Optional.empty();
    }
}
