package dev.regmirror.core.upstream;

import dev.regmirror.core.reference.RepositoryName;
import java.util.Objects;

/**
 * Where a request goes: the upstream registry and the repository name in the upstream's own naming
 * ({@code alpine} on docker.io becomes {@code library/alpine}).
 */
public record Route(String registry, RepositoryName name) {

    public Route {
        Objects.requireNonNull(registry, "registry");
        Objects.requireNonNull(name, "name");
    }

    @Override
    public String toString() {
        return registry + "/" + name;
    }
}
