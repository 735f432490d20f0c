package dev.regmirror.core.upstream;

import java.util.Objects;
import java.util.Optional;

/**
 * What of a request decides its upstream: the repository name as it appeared in the path, the
 * registry containerd names in {@code ?ns=} (or in a {@code /<registry>/v2/} path), and the Host
 * header without its port.
 */
public record RouteRequest(String name, Optional<String> namespace, Optional<String> host) {

    public RouteRequest {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(namespace, "namespace");
        Objects.requireNonNull(host, "host");
    }

    /** A plain name, as a Docker daemon or skopeo sends it to a mirror. */
    public static RouteRequest of(String name) {
        return new RouteRequest(name, Optional.empty(), Optional.empty());
    }
}
