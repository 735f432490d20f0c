package dev.regmirror.core.client.auth;

import dev.regmirror.core.reference.RepositoryName;
import java.util.Objects;

/**
 * A token scope of the <a href="https://distribution.github.io/distribution/spec/auth/scope/">token
 * scope spec</a>, such as {@code repository:library/alpine:pull}; regmirror only ever pulls.
 */
public record Scope(String value) {

    public Scope {
        Objects.requireNonNull(value, "value");
        if (value.isBlank() || !value.chars().allMatch(c -> c > 0x20 && c < 0x7f && c != '"')) {
            throw new IllegalArgumentException("a scope is printable ASCII without spaces or quotes");
        }
    }

    /** The scope to pull from one repository. */
    public static Scope pull(RepositoryName name) {
        return new Scope("repository:" + name + ":pull");
    }

    @Override
    public String toString() {
        return value;
    }
}
