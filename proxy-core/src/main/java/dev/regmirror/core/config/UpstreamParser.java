package dev.regmirror.core.config;

import com.typesafe.config.Config;
import dev.regmirror.core.mirror.TagPolicy;
import dev.regmirror.core.upstream.Credentials;
import dev.regmirror.core.upstream.Endpoint;
import dev.regmirror.core.upstream.EndpointSettings;
import dev.regmirror.core.upstream.NameRewrite;
import dev.regmirror.core.upstream.UpstreamLimits;
import dev.regmirror.core.upstream.UpstreamSettings;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/** Turns one {@code regmirror.upstreams.<id>} block into {@link UpstreamSettings}, naming the setting on error. */
final class UpstreamParser {

    private static final String HOST = "[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]+)?";

    private UpstreamParser() {
    }

    /** Endpoint keys; anything else in an endpoint is a mistake worth stopping for. */
    private static final java.util.Set<String> ENDPOINT_KEYS =
            java.util.Set.of("url", "rewrite", "partial", "username", "password", "token-realm");

    static UpstreamSettings parse(String id, Config c) {
        try {
            return parseChecked(id, c);
        } catch (com.typesafe.config.ConfigException e) {
            throw new SettingsException("regmirror.upstreams." + id + ": " + e.getMessage(), e);
        }
    }

    /** The upstream's tag caching, from tag-ttl, not-found-ttl and ratelimit-floor. */
    static TagPolicy tagPolicy(String id, Config c) {
        String where = "regmirror.upstreams." + id;
        try {
            Duration ttl = notNegative(where + ".tag-ttl", c.getDuration("tag-ttl"));
            Duration notFound = notNegative(where + ".not-found-ttl", c.getDuration("not-found-ttl"));
            long floor = c.getLong("ratelimit-floor");
            if (floor < -1) {
                throw new SettingsException(where + ".ratelimit-floor: must be -1 (off) or more, was " + floor);
            }
            return new TagPolicy(ttl, notFound, floor);
        } catch (com.typesafe.config.ConfigException e) {
            throw new SettingsException(where + ": " + e.getMessage(), e);
        }
    }

    /** The most connections one upstream may be given; far above what any registry allows one client. */
    private static final int MAX_CONNECTIONS = 10_000;
    /** The lowest rate that is not "no limit": one request per 100 seconds. */
    private static final double MIN_RATE = 0.01;
    private static final double MAX_RATE = 1_000_000;

    /**
     * The upstream's limits, from max-connections and max-requests-per-second (0: none), with
     * read-timeout as the longest a request waits for its turn.
     */
    static UpstreamLimits limits(String id, Config c) {
        String where = "regmirror.upstreams." + id;
        try {
            int connections = c.getInt("max-connections");
            if (connections < 0 || connections > MAX_CONNECTIONS) {
                throw new SettingsException(where + ".max-connections: must be 0 (no limit) to " + MAX_CONNECTIONS
                        + ", was " + connections);
            }
            double rate = c.getDouble("max-requests-per-second");
            if (rate != 0 && !(rate >= MIN_RATE && rate <= MAX_RATE)) {
                throw new SettingsException(where + ".max-requests-per-second: must be 0 (no limit) or 0.01 to 1000000,"
                        + " was " + c.getString("max-requests-per-second"));
            }
            return new UpstreamLimits(where, connections, rate, positive(where + ".read-timeout",
                    c.getDuration("read-timeout")));
        } catch (com.typesafe.config.ConfigException e) {
            throw new SettingsException(where + ": " + e.getMessage(), e);
        }
    }

    /** Whether the upstream takes signed-in accounts only ({@code require-account}). */
    static boolean requiresAccount(String id, Config c) {
        try {
            return c.getBoolean("require-account");
        } catch (com.typesafe.config.ConfigException e) {
            throw new SettingsException("regmirror.upstreams." + id + ": " + e.getMessage(), e);
        }
    }

    private static Duration notNegative(String setting, Duration value) {
        if (value.isNegative()) {
            throw new SettingsException(setting + ": must not be negative, was " + value);
        }
        return value;
    }

    private static UpstreamSettings parseChecked(String id, Config c) {
        String where = "regmirror.upstreams." + id;
        if (!id.matches("[A-Za-z0-9][A-Za-z0-9-]*")) {
            throw new SettingsException(where + ": upstream ids are letters, digits and '-'");
        }
        String registry = host(where + ".registry", c.getString("registry"));
        List<String> aliases = new ArrayList<>();
        for (String alias : c.getStringList("aliases")) {
            aliases.add(host(where + ".aliases", alias));
        }
        List<String> hosts = new ArrayList<>();
        for (String host : c.getStringList("hosts")) {
            hosts.add(host(where + ".hosts", host).replaceAll(":[0-9]+$", ""));
        }
        Optional<Path> caFile = CaFileSetting.parse(where + ".ca-file", c.getString("ca-file"));
        Optional<URI> proxy = c.getString("proxy").isEmpty() ? Optional.empty()
                : Optional.of(httpUrl(where + ".proxy", c.getString("proxy")));
        if (proxy.isPresent() && (!"http".equals(proxy.get().getScheme()) || proxy.get().getPort() < 0)) {
            throw new SettingsException(where + ".proxy: must be http://host:port (an HTTP proxy; it can still tunnel"
                    + " to https endpoints)");
        }
        Duration connect = positive(where + ".connect-timeout", c.getDuration("connect-timeout"));
        Duration read = positive(where + ".read-timeout", c.getDuration("read-timeout"));
        List<Endpoint> endpoints = new ArrayList<>();
        List<? extends Config> listed = c.getConfigList("endpoints");
        if (listed.isEmpty()) {
            if (!c.hasPath("url")) {
                throw new SettingsException(where + ": set url, or endpoints = [{ url = ... }]");
            }
            endpoints.add(endpoint(where, registry, c, connect, read, caFile, proxy));
        }
        Optional<URI> own = c.hasPath("url") ? Optional.of(httpUrl(where + ".url", c.getString("url"))) : Optional.empty();
        for (int i = 0; i < listed.size(); i++) {
            Config entry = listed.get(i);
            String at = where + ".endpoints." + i;
            checkEndpointKeys(at, entry);
            // The registry's own endpoint takes the upstream's credentials and token realm unless it sets its own.
            if (own.isPresent() && httpUrl(at + ".url", entry.getString("url")).equals(own.get())
                    && !entry.hasPath("username")) {
                entry = entry.withFallback(c.withOnlyPath("username").withFallback(c.withOnlyPath("password")));
                if (!entry.hasPath("token-realm") && c.hasPath("token-realm")) {
                    entry = entry.withFallback(c.withOnlyPath("token-realm"));
                }
            }
            endpoints.add(endpoint(at, registry, entry, connect, read, caFile, proxy));
        }
        if (!listed.isEmpty()) {
            boolean user = c.hasPath("username") && !c.getString("username").isEmpty();
            boolean password = c.hasPath("password") && !c.getString("password").isEmpty();
            if (user != password) {
                throw new SettingsException(where + ": username and password must be set together");
            }
        }
        return new UpstreamSettings(registry, aliases, hosts, c.getString("library-prefix"), endpoints,
                positive(where + ".failure-skip", c.getDuration("failure-skip")));
    }

    private static Endpoint endpoint(String where, String registry, Config c, Duration connect, Duration read,
                                     Optional<Path> caFile, Optional<URI> proxy) {
        URI url = httpUrl(where + ".url", c.getString("url"));
        boolean hasUser = c.hasPath("username") && !c.getString("username").isEmpty();
        boolean hasPassword = c.hasPath("password") && !c.getString("password").isEmpty();
        if (hasUser != hasPassword) {
            throw new SettingsException(where + ": username and password must be set together");
        }
        Optional<Credentials> credentials = hasUser
                ? Optional.of(new Credentials(c.getString("username"), c.getString("password")))
                : Optional.empty();
        Optional<URI> realm = c.hasPath("token-realm") && !c.getString("token-realm").isEmpty()
                ? Optional.of(httpUrl(where + ".token-realm", c.getString("token-realm")))
                : Optional.empty();
        NameRewrite rewrite = NameRewrite.IDENTITY;
        if (c.hasPath("rewrite")) {
            try {
                rewrite = new NameRewrite(c.getString("rewrite"));
            } catch (IllegalArgumentException e) {
                throw new SettingsException(where + ".rewrite: " + e.getMessage());
            }
        }
        boolean partial = c.hasPath("partial") && c.getBoolean("partial");
        return new Endpoint(new EndpointSettings(registry, url, credentials, realm, connect, read, caFile, proxy),
                rewrite, partial);
    }

    private static void checkEndpointKeys(String where, Config entry) {
        for (String key : entry.root().keySet()) {
            if (!ENDPOINT_KEYS.contains(key)) {
                throw new SettingsException(where + "." + key + ": not an endpoint setting (those are "
                        + new java.util.TreeSet<>(ENDPOINT_KEYS) + ")");
            }
        }
    }

    /** Settings that describe one registry only and so make no sense as defaults for all. */
    static void checkDefaults(Config defaults) {
        for (String key : List.of("aliases", "hosts", "endpoints")) {
            if (defaults.hasPath(key) && !defaults.getList(key).isEmpty()) {
                throw new SettingsException("regmirror.upstream-defaults." + key
                        + ": set it on one upstream, not for all of them");
            }
        }
    }

    private static String host(String setting, String value) {
        String lower = value.toLowerCase(Locale.ROOT);
        if (!lower.matches(HOST)) {
            throw new SettingsException(setting + ": \"" + value + "\" is not a registry host name");
        }
        return lower;
    }

    static URI httpUrl(String setting, String value) {
        try {
            URI uri = new URI(value);
            if (uri.getRawUserInfo() != null) {
                throw new SettingsException(setting + ": credentials do not belong in the URL (they would show in"
                        + " messages); use the username and password settings");
            }
            if (!("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) || uri.getHost() == null) {
                throw new SettingsException(setting + ": \"" + value + "\" is not an http or https URL");
            }
            return uri;
        } catch (URISyntaxException e) {
            throw new SettingsException(setting + ": \"" + value + "\" is not a URL: " + e.getReason());
        }
    }

    private static Duration positive(String setting, Duration value) {
        if (value.isNegative() || value.isZero()) {
            throw new SettingsException(setting + ": must be positive, was " + value);
        }
        return value;
    }
}
