package dev.regmirror.core.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigObject;
import dev.regmirror.core.upstream.Credentials;
import dev.regmirror.core.upstream.UpstreamSettings;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The domain's settings, built once from the {@code regmirror} block of the configuration, with a
 * {@link SettingsException} naming the setting for anything invalid.
 */
public record MirrorSettings(CacheSettings cache, List<UpstreamSettings> upstreams, String defaultRegistry) {

    public MirrorSettings {
        upstreams = List.copyOf(upstreams);
    }

    /** Reads and validates the settings from a resolved configuration. */
    public static MirrorSettings from(Config config) {
        try {
            Config root = config.getConfig("regmirror");
            CacheSettings cache = new CacheSettings(path(root, "cache.directory"));
            Config defaults = root.getConfig("upstream-defaults");
            ConfigObject ids = root.getObject("upstreams");
            if (ids.isEmpty()) {
                throw new SettingsException("regmirror.upstreams: at least one upstream must be configured");
            }
            List<UpstreamSettings> upstreams = new ArrayList<>();
            for (String id : ids.keySet()) {
                upstreams.add(upstream(id, root.getConfig("upstreams.\"" + id + "\"").withFallback(defaults)));
            }
            String defaultId = root.getString("default-upstream");
            if (!ids.containsKey(defaultId)) {
                throw new SettingsException("regmirror.default-upstream: \"" + defaultId
                        + "\" is not one of the configured upstreams " + ids.keySet());
            }
            String defaultRegistry = root.getConfig("upstreams.\"" + defaultId + "\"").getString("registry");
            return new MirrorSettings(cache, upstreams, defaultRegistry);
        } catch (ConfigException e) {
            throw new SettingsException("invalid configuration: " + e.getMessage(), e);
        }
    }

    private static UpstreamSettings upstream(String id, Config c) {
        String where = "regmirror.upstreams." + id;
        if (!id.matches("[A-Za-z0-9][A-Za-z0-9-]*")) {
            throw new SettingsException(where + ": upstream ids are letters, digits and '-'");
        }
        String registry = c.getString("registry");
        if (!registry.matches("[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]+)?")) {
            throw new SettingsException(where + ".registry: \"" + registry + "\" is not a registry host name");
        }
        URI url = httpUrl(where + ".url", c.getString("url"));
        Optional<Credentials> credentials = Optional.empty();
        boolean hasUser = c.hasPath("username") && !c.getString("username").isEmpty();
        boolean hasPassword = c.hasPath("password") && !c.getString("password").isEmpty();
        if (hasUser != hasPassword) {
            throw new SettingsException(where + ": username and password must be set together");
        }
        if (hasUser) {
            credentials = Optional.of(new Credentials(c.getString("username"), c.getString("password")));
        }
        Optional<URI> realm = c.hasPath("token-realm") && !c.getString("token-realm").isEmpty()
                ? Optional.of(httpUrl(where + ".token-realm", c.getString("token-realm")))
                : Optional.empty();
        return new UpstreamSettings(registry, url, c.getString("library-prefix"), credentials, realm,
                positive(where + ".connect-timeout", c.getDuration("connect-timeout")),
                positive(where + ".read-timeout", c.getDuration("read-timeout")));
    }

    private static URI httpUrl(String setting, String value) {
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

    private static Path path(Config c, String setting) {
        try {
            return Path.of(c.getString(setting));
        } catch (InvalidPathException e) {
            throw new SettingsException("regmirror." + setting + ": not a valid path: " + e.getMessage());
        }
    }
}
