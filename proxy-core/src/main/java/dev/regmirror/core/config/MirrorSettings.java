package dev.regmirror.core.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigObject;
import dev.regmirror.core.mirror.TagPolicy;
import dev.regmirror.core.upstream.Endpoint;
import dev.regmirror.core.upstream.UpstreamLimits;
import dev.regmirror.core.upstream.UpstreamRouter;
import dev.regmirror.core.upstream.UpstreamSettings;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * The domain's settings, built once from the {@code regmirror} block of the configuration, with a
 * {@link SettingsException} naming the setting for anything invalid.
 */
public record MirrorSettings(CacheSettings cache, List<UpstreamSettings> upstreams, String defaultRegistry,
                             Map<String, String> localAliases, Map<String, TagPolicy> tagPolicies,
                             Map<String, UpstreamLimits> limits, AuthSettings auth, HostedSettings hosted,
                             StorageSettings storage) {

    public MirrorSettings {
        upstreams = List.copyOf(upstreams);
        localAliases = Map.copyOf(localAliases);
        tagPolicies = Map.copyOf(tagPolicies);
        limits = Map.copyOf(limits);
        Objects.requireNonNull(auth, "auth");
        Objects.requireNonNull(hosted, "hosted");
        Objects.requireNonNull(storage, "storage");
    }

    private static long verifyRate(long bytesPerSecond) {
        if (bytesPerSecond <= 0) {
            throw new SettingsException("regmirror.cache.verify-rate: must be a size per second above 0 (50M), was "
                    + bytesPerSecond);
        }
        return bytesPerSecond;
    }

    /** Reads and validates the settings from a resolved configuration. */
    public static MirrorSettings from(Config config) {
        try {
            Config root = config.getConfig("regmirror");
            long maxBytes = root.getBytes("cache.max-size");
            if (maxBytes < 0) {
                throw new SettingsException("regmirror.cache.max-size: must be 0 (no cap) or more, was " + maxBytes);
            }
            CacheSettings cache = new CacheSettings(path(root, "cache.directory"), maxBytes,
                    positive("regmirror.cache.fill-timeout", root.getDuration("cache.fill-timeout")),
                    positive("regmirror.cache.storage-retry", root.getDuration("cache.storage-retry")),
                    verifyRate(root.getBytes("cache.verify-rate")));
            Config defaults = root.getConfig("upstream-defaults");
            UpstreamParser.checkDefaults(defaults);
            ConfigObject ids = root.getObject("upstreams");
            if (ids.isEmpty()) {
                throw new SettingsException("regmirror.upstreams: at least one upstream must be configured");
            }
            List<UpstreamSettings> upstreams = new ArrayList<>();
            Map<String, TagPolicy> policies = new HashMap<>();
            Map<String, UpstreamLimits> limits = new HashMap<>();
            Map<String, String> claimed = new HashMap<>();
            Map<String, String> accountOnly = new LinkedHashMap<>();
            for (String id : ids.keySet()) {
                Config block = root.getConfig("upstreams.\"" + id + "\"").withFallback(defaults);
                UpstreamSettings upstream = UpstreamParser.parse(id, block);
                policies.put(upstream.registry(), UpstreamParser.tagPolicy(id, block));
                limits.put(upstream.registry(), UpstreamParser.limits(id, block));
                if (UpstreamParser.requiresAccount(id, block)) {
                    accountOnly.put(upstream.registry(), id);
                }
                claim(claimed, upstream.registry(), id);
                upstream.aliases().forEach(alias -> claim(claimed, alias, id));
                upstream.hosts().forEach(host -> claim(claimed, "host " + host, id));
                upstreams.add(upstream);
            }
            String defaultId = root.getString("default-upstream");
            if (!ids.containsKey(defaultId)) {
                throw new SettingsException("regmirror.default-upstream: \"" + defaultId
                        + "\" is not one of the configured upstreams " + ids.keySet());
            }
            String defaultRegistry = root.getConfig("upstreams.\"" + defaultId + "\"").getString("registry");
            Map<String, String> aliases = new java.util.LinkedHashMap<>();
            Config localAliases = root.getConfig("local-aliases");
            for (String from : root.getObject("local-aliases").keySet()) {
                aliases.put(from, localAliases.getString("\"" + from + "\""));
            }
            HostedSettings hosted = HostedParser.parse(root.getConfig("hosted"), claimed);
            java.util.Set<String> registries = upstreams.stream().map(UpstreamSettings::registry)
                    .collect(Collectors.toCollection(java.util.HashSet::new));
            if (hosted.enabled()) {
                registries.add(hosted.registry());
            }
            AuthSettings auth = AuthParser.parse(root, accountOnly, registries);
            if (hosted.enabled() && auth.htpasswd().isEmpty()) {
                throw new SettingsException("regmirror.hosted: pushing needs signed-in accounts: set "
                        + "regmirror.auth.htpasswd and a rule with actions = [\"push\"] for " + hosted.registry() + "/...");
            }
            StorageSettings storage = StorageParser.parse(root.getConfig("storage"));
            MirrorSettings settings = new MirrorSettings(cache, upstreams, defaultRegistry, aliases, policies, limits,
                    auth, hosted, storage);
            settings.router();
            return settings;
        } catch (ConfigException e) {
            throw new SettingsException("invalid configuration: " + e.getMessage(), e);
        }
    }

    private static void claim(Map<String, String> claimed, String name, String id) {
        String other = claimed.putIfAbsent(name, id);
        if (other != null && !other.equals(id)) {
            throw new SettingsException("regmirror.upstreams: " + name + " is claimed by both " + other + " and " + id);
        }
    }

    /** The router these settings describe; local aliases that name no configured upstream are refused. */
    public UpstreamRouter router() {
        try {
            return new UpstreamRouter(upstreams, defaultRegistry, localAliases, hosted);
        } catch (IllegalArgumentException e) {
            throw new SettingsException("regmirror.local-aliases: " + e.getMessage());
        }
    }

    /** The settings of the upstream for a registry name. */
    public UpstreamSettings upstream(String registry) {
        return upstreams.stream().filter(u -> u.registry().equals(registry)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no upstream " + registry));
    }

    /** Every endpoint of every upstream. */
    public List<Endpoint> endpoints() {
        return upstreams.stream().flatMap(u -> u.endpoints().stream()).toList();
    }

    private static java.time.Duration positive(String setting, java.time.Duration value) {
        if (value.isNegative() || value.isZero()) {
            throw new SettingsException(setting + ": must be positive, was " + value);
        }
        return value;
    }

    private static Path path(Config c, String setting) {
        try {
            return Path.of(c.getString(setting));
        } catch (InvalidPathException e) {
            throw new SettingsException("regmirror." + setting + ": not a valid path: " + e.getMessage());
        }
    }
}
