package dev.regmirror.core.upstream;

import dev.regmirror.core.error.InvalidRequestException;
import dev.regmirror.core.error.RegistryErrorCode;
import dev.regmirror.core.reference.RepositoryName;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Decides which upstream serves a repository name a client asked for, and what that name is
 * called there: unprefixed names go to the default upstream, which adds its library prefix to
 * one-word names as Docker Hub does ({@code alpine} means {@code library/alpine}).
 */
public final class UpstreamRouter {

    private final Map<String, UpstreamSettings> upstreams = new LinkedHashMap<>();
    private final UpstreamSettings defaultUpstream;

    public UpstreamRouter(List<UpstreamSettings> upstreams, String defaultRegistry) {
        for (UpstreamSettings upstream : upstreams) {
            this.upstreams.put(upstream.registry(), upstream);
        }
        this.defaultUpstream = this.upstreams.get(defaultRegistry);
        if (defaultUpstream == null) {
            throw new IllegalArgumentException("default upstream " + defaultRegistry
                    + " is not among the configured upstreams " + this.upstreams.keySet());
        }
    }

    /** Routes a name as it appeared in the request path; invalid names are NAME_INVALID. */
    public Route route(String requestedName) {
        if (requestedName == null || requestedName.isEmpty()) {
            throw new InvalidRequestException(RegistryErrorCode.NAME_INVALID, "empty repository name");
        }
        RepositoryName name = new RepositoryName(requestedName);
        return new Route(defaultUpstream.registry(), withLibraryPrefix(defaultUpstream, name));
    }

    /** The settings of a configured upstream. */
    public UpstreamSettings upstream(String registry) {
        UpstreamSettings upstream = upstreams.get(registry);
        if (upstream == null) {
            throw new IllegalArgumentException("no upstream " + registry);
        }
        return upstream;
    }

    private static RepositoryName withLibraryPrefix(UpstreamSettings upstream, RepositoryName name) {
        if (!upstream.libraryPrefix().isEmpty() && name.components().size() == 1) {
            return name.prefixedWith(upstream.libraryPrefix());
        }
        return name;
    }
}
