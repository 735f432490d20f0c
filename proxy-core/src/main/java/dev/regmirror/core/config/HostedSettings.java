package dev.regmirror.core.config;

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * The hosted registry beside the cache ({@code regmirror.hosted}): which names are pushed to
 * regmirror instead of mirrored, and how pushes behave.
 *
 * @param registry         the hosted registry's name: in access rules ({@code local/lan/**}), in
 *                         {@code ?ns=}, and, when it looks like a host name, in front of names
 * @param namespaces       leading name components that are hosted under the default upstream's
 *                         naming ({@code lan} hosts {@code lan/app} and {@code lan/team/app})
 * @param hosts            Host header values (without port) under which every name is hosted
 * @param uploadTimeout    an upload idle this long is given up and its bytes removed
 * @param deleteEnabled    whether {@code DELETE} of manifests and tags is allowed
 * @param deleteBlobs      whether {@code DELETE} of blobs is allowed too
 * @param maxManifestBytes the largest manifest a push may send
 */
public record HostedSettings(String registry, List<String> namespaces, List<String> hosts, Duration uploadTimeout,
                             boolean deleteEnabled, boolean deleteBlobs, int maxManifestBytes) {

    private static final Pattern HOST_LIKE =
            Pattern.compile("[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]+)?");

    public HostedSettings {
        Objects.requireNonNull(registry, "registry");
        namespaces = List.copyOf(namespaces);
        hosts = hosts.stream().map(host -> host.toLowerCase(Locale.ROOT)).toList();
        Objects.requireNonNull(uploadTimeout, "uploadTimeout");
    }

    /** Nothing hosted: a pure mirror. */
    public static HostedSettings none() {
        return new HostedSettings("local", List.of(), List.of(), Duration.ofHours(1), false, false, 4 << 20);
    }

    /**
     * Whether anything is hosted: a namespace or host is configured, or the registry's name is one
     * clients can put in front of names (it looks like a host name: a dot, a port or {@code localhost}).
     */
    public boolean enabled() {
        return !namespaces.isEmpty() || !hosts.isEmpty() || addressable();
    }

    /** Whether clients may write the registry's name in front of a repository name, as Docker reads names. */
    public boolean addressable() {
        return HOST_LIKE.matcher(registry).matches()
                && (registry.indexOf('.') >= 0 || registry.indexOf(':') >= 0 || registry.equals("localhost"));
    }
}
