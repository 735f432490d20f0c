package dev.regmirror.core.upstream;

import dev.regmirror.core.reference.RepositoryName;
import java.util.Objects;

/**
 * Where a request goes: the upstream registry and the repository name in the upstream's own naming
 * ({@code alpine} on docker.io becomes {@code library/alpine}); or, for a hosted repository, the
 * hosted registry's name and the repository as pushed, which no upstream ever sees.
 *
 * @param hosted whether the repository is hosted here (pushed to regmirror) rather than mirrored
 */
public record Route(String registry, RepositoryName name, boolean hosted) {

    public Route {
        Objects.requireNonNull(registry, "registry");
        Objects.requireNonNull(name, "name");
    }

    /** A mirrored repository of an upstream. */
    public Route(String registry, RepositoryName name) {
        this(registry, name, false);
    }

    /** A repository of the hosted registry. */
    public static Route hosted(String registry, RepositoryName name) {
        return new Route(registry, name, true);
    }

    @Override
    public String toString() {
        return registry + "/" + name;
    }
}
