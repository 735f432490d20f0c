package dev.regmirror.core.config;

import com.typesafe.config.Config;
import dev.regmirror.core.reference.RepositoryName;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Reads {@code regmirror.hosted} into {@link HostedSettings}, naming the setting of anything invalid. */
final class HostedParser {

    private static final int MAX_MANIFEST_LIMIT = 64 << 20;

    private HostedParser() {
    }

    /**
     * @param claimed the registry names, aliases and {@code "host <name>"} entries the upstreams
     *                claimed, to the upstream's id: the hosted registry may take none of them
     */
    static HostedSettings parse(Config c, Map<String, String> claimed) {
        String registry = c.getString("registry").toLowerCase(Locale.ROOT);
        if (registry.isEmpty() || registry.indexOf('/') >= 0) {
            throw new SettingsException("regmirror.hosted.registry: a registry name without '/', was \"" + registry + "\"");
        }
        if (claimed.containsKey(registry)) {
            throw new SettingsException("regmirror.hosted.registry: \"" + registry + "\" is the upstream "
                    + claimed.get(registry) + "'s name; the hosted registry needs a name of its own");
        }
        List<String> namespaces = new ArrayList<>();
        for (String namespace : c.getStringList("namespaces")) {
            String trimmed = namespace.endsWith("/") ? namespace.substring(0, namespace.length() - 1) : namespace;
            try {
                namespaces.add(new RepositoryName(trimmed).value());
            } catch (RuntimeException e) {
                throw new SettingsException("regmirror.hosted.namespaces: \"" + namespace
                        + "\" is not a repository name prefix: " + e.getMessage());
            }
        }
        List<String> hosts = new ArrayList<>();
        for (String host : c.getStringList("hosts")) {
            String lower = host.toLowerCase(Locale.ROOT);
            if (claimed.containsKey("host " + lower)) {
                throw new SettingsException("regmirror.hosted.hosts: " + lower + " is a host of the upstream "
                        + claimed.get("host " + lower));
            }
            hosts.add(lower);
        }
        Duration uploadTimeout = c.getDuration("upload-timeout");
        if (uploadTimeout.isNegative() || uploadTimeout.isZero()) {
            throw new SettingsException("regmirror.hosted.upload-timeout: must be positive, was " + uploadTimeout);
        }
        long maxManifest = c.getBytes("max-manifest-size");
        if (maxManifest < 1024 || maxManifest > MAX_MANIFEST_LIMIT) {
            throw new SettingsException("regmirror.hosted.max-manifest-size: 1K to 64M, was " + maxManifest);
        }
        return new HostedSettings(registry, namespaces, hosts, uploadTimeout, c.getBoolean("delete.enabled"),
                c.getBoolean("delete.blobs"), (int) maxManifest);
    }
}
