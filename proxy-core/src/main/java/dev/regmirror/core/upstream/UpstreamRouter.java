package dev.regmirror.core.upstream;

import dev.regmirror.core.config.HostedSettings;
import dev.regmirror.core.error.InvalidRequestException;
import dev.regmirror.core.error.Printable;
import dev.regmirror.core.error.RegistryErrorCode;
import dev.regmirror.core.reference.ImageReference;
import dev.regmirror.core.reference.RepositoryName;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Decides which configured upstream serves a request and what the repository is called there.
 * In order: containerd's {@code ?ns=<registry>}; a Host header configured for an upstream; a first
 * path component that is a registry or alias ({@code ghcr.io/org/img}); else the default upstream.
 * One-word names get the upstream's library prefix ({@code alpine} is {@code library/alpine} on
 * docker.io), then local aliases apply. A first component that looks like a host but is not
 * configured is NAME_UNKNOWN: only configured upstreams are ever contacted. The hosted registry
 * ({@link HostedSettings}) is routed like an upstream (by {@code ?ns=}, Host, or its name in
 * front), and also by the leading components of names under the default upstream's naming; a
 * hosted route is never given a library prefix nor an upstream.
 */
public final class UpstreamRouter {

    private final Map<String, UpstreamSettings> byName = new LinkedHashMap<>();
    private final Map<String, UpstreamSettings> byHost = new HashMap<>();
    private final Map<String, UpstreamSettings> byRegistry = new LinkedHashMap<>();
    private final UpstreamSettings defaultUpstream;
    private final Map<Route, Route> localAliases = new HashMap<>();
    private final HostedSettings hosted;
    /** {@link HostedSettings#enabled()} once: it matches the registry's name against a pattern. */
    private final boolean hostedEnabled;

    /**
     * @param localAliases names that exist only on the LAN, each mapped to an image name, both
     *                     written as a client would ({@code library/kafka} to {@code docker.io/wurstmeister/kafka})
     * @throws IllegalArgumentException if the default or an alias names no configured upstream
     */
    public UpstreamRouter(List<UpstreamSettings> upstreams, String defaultRegistry, Map<String, String> localAliases,
                          HostedSettings hosted) {
        this.hosted = hosted;
        this.hostedEnabled = hosted.enabled();
        for (UpstreamSettings upstream : upstreams) {
            byRegistry.put(upstream.registry(), upstream);
            byName.put(upstream.registry(), upstream);
            upstream.aliases().forEach(alias -> byName.put(alias, upstream));
            upstream.hosts().forEach(host -> byHost.put(host, upstream));
        }
        this.defaultUpstream = byRegistry.get(defaultRegistry);
        if (defaultUpstream == null) {
            throw new IllegalArgumentException("default upstream " + defaultRegistry
                    + " is not among the configured upstreams " + byRegistry.keySet());
        }
        localAliases.forEach((from, to) -> {
            try {
                this.localAliases.put(resolve(RouteRequest.of(from)), resolve(RouteRequest.of(to)));
            } catch (InvalidRequestException e) {
                throw new IllegalArgumentException("\"" + from + "\" = \"" + to + "\": " + e.getMessage(), e);
            }
        });
    }

    public UpstreamRouter(List<UpstreamSettings> upstreams, String defaultRegistry, Map<String, String> localAliases) {
        this(upstreams, defaultRegistry, localAliases, HostedSettings.none());
    }

    public UpstreamRouter(List<UpstreamSettings> upstreams, String defaultRegistry) {
        this(upstreams, defaultRegistry, Map.of());
    }

    /** The hosted registry's settings ({@link HostedSettings#enabled()} false when nothing is hosted). */
    public HostedSettings hosted() {
        return hosted;
    }

    /**
     * Whether a registry name or alias is one this router serves (an upstream, or the hosted
     * registry when enabled), as containerd's {@code /<registry>/v2/} paths name it.
     */
    public boolean serves(String registryOrAlias) {
        return upstreamNamed(registryOrAlias).isPresent() || isHostedRegistry(registryOrAlias);
    }

    private boolean isHostedRegistry(String name) {
        return hostedEnabled && hosted.registry().equals(name.toLowerCase(Locale.ROOT));
    }

    /** Routes an image's name (its tag and digest play no part), as a client's pull of it would be. */
    public Route route(ImageReference image) {
        return route(image.name());
    }

    /** Routes a plain name, as a Docker daemon sends it. */
    public Route route(String requestedName) {
        return route(RouteRequest.of(requestedName));
    }

    /** Routes a request; invalid names are NAME_INVALID, unconfigured registries NAME_UNKNOWN. */
    public Route route(RouteRequest request) {
        Route route = resolve(request);
        return localAliases.getOrDefault(route, route);
    }

    /** The configured upstream a registry name or alias stands for. */
    public Optional<UpstreamSettings> upstreamNamed(String registryOrAlias) {
        return Optional.ofNullable(byName.get(registryOrAlias.toLowerCase(Locale.ROOT)));
    }

    /** The settings of a configured upstream, by its registry name. */
    public UpstreamSettings upstream(String registry) {
        UpstreamSettings upstream = byRegistry.get(registry);
        if (upstream == null) {
            throw new IllegalArgumentException("no upstream " + registry);
        }
        return upstream;
    }

    private Route resolve(RouteRequest request) {
        String requested = request.name();
        if (requested.isEmpty()) {
            throw new InvalidRequestException(RegistryErrorCode.NAME_INVALID, "empty repository name");
        }
        UpstreamSettings upstream;
        String rest = requested;
        Optional<Route> hostedRoute = hostedRoute(request);
        if (hostedRoute.isPresent()) {
            return hostedRoute.get();
        }
        if (request.namespace().isPresent()) {
            upstream = upstreamNamed(request.namespace().get())
                    .orElseThrow(() -> unknownRegistry(request.namespace().get(), requested));
            // containerd with override_path (and k3s rewrites) may also put the registry in front.
            int slash = requested.indexOf('/');
            if (slash > 0 && upstream.answersTo(requested.substring(0, slash).toLowerCase(Locale.ROOT))) {
                rest = requested.substring(slash + 1);
            }
        } else if (request.host().isPresent() && byHost.containsKey(request.host().get().toLowerCase(Locale.ROOT))) {
            upstream = byHost.get(request.host().get().toLowerCase(Locale.ROOT));
        } else {
            int slash = requested.indexOf('/');
            String first = slash < 0 ? requested : requested.substring(0, slash);
            if (looksLikeRegistry(first)) {
                upstream = upstreamNamed(first).orElseThrow(() -> unknownRegistry(first, requested));
                if (slash < 0) {
                    throw new InvalidRequestException(RegistryErrorCode.NAME_INVALID,
                            "\"" + Printable.of(requested) + "\" names a registry but no repository in it");
                }
                rest = requested.substring(slash + 1);
            } else {
                upstream = defaultUpstream;
            }
        }
        RepositoryName name = new RepositoryName(rest);
        if (!upstream.libraryPrefix().isEmpty() && name.components().size() == 1) {
            name = name.prefixedWith(upstream.libraryPrefix());
        }
        return new Route(upstream.registry(), name);
    }

    /**
     * The hosted route of a request, if it names the hosted registry: by {@code ?ns=}, by a hosted
     * Host, by the registry's name in front, or (with no {@code ?ns=}, no upstream Host and no
     * registry in front) by a hosted namespace.
     */
    private Optional<Route> hostedRoute(RouteRequest request) {
        if (!hostedEnabled) {
            return Optional.empty();
        }
        String requested = request.name();
        if (request.namespace().isPresent()) {
            if (!isHostedRegistry(request.namespace().get())) {
                return Optional.empty();
            }
            return Optional.of(Route.hosted(hosted.registry(), new RepositoryName(withoutHostedPrefix(requested))));
        }
        Optional<String> host = request.host().map(h -> h.toLowerCase(Locale.ROOT));
        if (host.isPresent() && hosted.hosts().contains(host.get())) {
            return Optional.of(Route.hosted(hosted.registry(), new RepositoryName(withoutHostedPrefix(requested))));
        }
        if (host.isPresent() && byHost.containsKey(host.get())) {
            return Optional.empty();
        }
        int slash = requested.indexOf('/');
        String first = slash < 0 ? requested : requested.substring(0, slash);
        if (hosted.addressable() && first.toLowerCase(Locale.ROOT).equals(hosted.registry())) {
            if (slash < 0) {
                throw new InvalidRequestException(RegistryErrorCode.NAME_INVALID,
                        "\"" + Printable.of(requested) + "\" names a registry but no repository in it");
            }
            return Optional.of(Route.hosted(hosted.registry(), new RepositoryName(requested.substring(slash + 1))));
        }
        if (looksLikeRegistry(first)) {
            return Optional.empty();
        }
        for (String namespace : hosted.namespaces()) {
            if (requested.equals(namespace) || requested.startsWith(namespace + "/")) {
                return Optional.of(Route.hosted(hosted.registry(), new RepositoryName(requested)));
            }
        }
        return Optional.empty();
    }

    /** A name that repeats the hosted registry's name in front (containerd's override_path) without it. */
    private String withoutHostedPrefix(String requested) {
        int slash = requested.indexOf('/');
        if (slash > 0 && requested.substring(0, slash).toLowerCase(Locale.ROOT).equals(hosted.registry())) {
            return requested.substring(slash + 1);
        }
        return requested;
    }

    private java.util.SortedSet<String> servedRegistries() {
        java.util.SortedSet<String> served = new java.util.TreeSet<>(byRegistry.keySet());
        if (hostedEnabled) {
            served.add(hosted.registry() + " (hosted)");
        }
        return served;
    }

    /**
     * As {@link ImageReference} decides it (a dot, a port, {@code localhost} or {@code [IPv6]}); a
     * component meant as a registry that is no valid host is NAME_INVALID, not a repository path.
     */
    private static boolean looksLikeRegistry(String component) {
        if (!ImageReference.namesRegistry(component)) {
            return false;
        }
        if (!ImageReference.isRegistry(component)) {
            throw new InvalidRequestException(RegistryErrorCode.NAME_INVALID, "invalid registry \""
                    + Printable.of(component) + "\": a host name with a dot or a port, localhost, or [IPv6]");
        }
        return true;
    }

    private InvalidRequestException unknownRegistry(String registry, String requested) {
        return new InvalidRequestException(RegistryErrorCode.NAME_UNKNOWN, "no upstream is configured for registry \""
                + Printable.of(registry) + "\" (asked for \"" + Printable.of(requested) + "\"); this mirror serves "
                + String.join(", ", servedRegistries()) + ": address one as <mirror>/v2/<registry>/<repository>/..., "
                + "with ?ns=<registry>, or by a configured host name; names without a registry go to "
                + defaultUpstream.registry());
    }
}
