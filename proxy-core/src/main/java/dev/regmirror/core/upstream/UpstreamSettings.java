package dev.regmirror.core.upstream;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * One upstream registry as configured: the registry name clients use for it ({@code docker.io})
 * and its aliases, the Host names that address it directly, the prefix for one-word names, and
 * the endpoints to fetch from, tried in order.
 *
 * @param registry      the registry name, such as {@code docker.io}
 * @param aliases       other names for it in prefixes and {@code ?ns=} ({@code registry-1.docker.io})
 * @param hosts         Host header values that mean this upstream with unprefixed names
 * @param libraryPrefix the component added to one-word names ({@code library} on Docker Hub), or empty
 * @param endpoints     where to fetch from, in order; at least one
 * @param failureSkip   how long an endpoint that failed is skipped before it is tried again
 */
public record UpstreamSettings(String registry, List<String> aliases, List<String> hosts, String libraryPrefix,
                               List<Endpoint> endpoints, Duration failureSkip) {

    public UpstreamSettings {
        Objects.requireNonNull(registry, "registry");
        aliases = List.copyOf(aliases);
        hosts = List.copyOf(hosts);
        Objects.requireNonNull(libraryPrefix, "libraryPrefix");
        endpoints = List.copyOf(endpoints);
        if (endpoints.isEmpty()) {
            throw new IllegalArgumentException("upstream " + registry + " has no endpoint");
        }
        Objects.requireNonNull(failureSkip, "failureSkip");
    }

    /** An upstream with one endpoint and no aliases, hosts or prefix, for tests and simple cases. */
    public static UpstreamSettings single(EndpointSettings endpoint, String libraryPrefix) {
        return new UpstreamSettings(endpoint.registry(), List.of(), List.of(), libraryPrefix,
                List.of(Endpoint.of(endpoint)), Duration.ofSeconds(30));
    }

    /** Whether {@code name} is this upstream's registry name or one of its aliases. */
    public boolean answersTo(String name) {
        return registry.equals(name) || aliases.contains(name);
    }
}
