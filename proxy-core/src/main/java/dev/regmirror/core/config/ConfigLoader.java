package dev.regmirror.core.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Loads the configuration once, at start: environment variables over the configuration file over
 * the modules' {@code reference.conf} defaults. Besides the named {@code REGMIRROR_*} variables,
 * any setting can be forced with typesafe-config's {@code CONFIG_FORCE_<path>} variables.
 */
public final class ConfigLoader {

    private static final Map<String, String> NAMED = Map.ofEntries(
            Map.entry("REGMIRROR_STORAGE_TYPE", "regmirror.storage.type"),
            Map.entry("REGMIRROR_S3_ENDPOINT", "regmirror.storage.s3.endpoint"),
            Map.entry("REGMIRROR_S3_REGION", "regmirror.storage.s3.region"),
            Map.entry("REGMIRROR_S3_BUCKET", "regmirror.storage.s3.bucket"),
            Map.entry("REGMIRROR_S3_PREFIX", "regmirror.storage.s3.prefix"),
            Map.entry("REGMIRROR_S3_ACCESS_KEY", "regmirror.storage.s3.access-key"),
            Map.entry("REGMIRROR_S3_SECRET_KEY", "regmirror.storage.s3.secret-key"),
            Map.entry("REGMIRROR_S3_CHANGES_INTERVAL", "regmirror.storage.s3.changes-interval"),
            Map.entry("REGMIRROR_CLUSTER_ENABLED", "regmirror.cluster.enabled"),
            Map.entry("REGMIRROR_CLUSTER_SELF", "regmirror.cluster.self"),
            Map.entry("REGMIRROR_CLUSTER_PEERS", "regmirror.cluster.peers"),
            Map.entry("REGMIRROR_CLUSTER_PEERS_DNS", "regmirror.cluster.peers-dns"),
            Map.entry("REGMIRROR_CLUSTER_SECRET", "regmirror.cluster.secret"),
            Map.entry("REGMIRROR_CLUSTER_TLS_ENABLED", "regmirror.cluster.tls.enabled"),
            Map.entry("REGMIRROR_CLUSTER_TLS_CA_FILE", "regmirror.cluster.tls.ca-file"),
            Map.entry("REGMIRROR_LISTEN_HOST", "regmirror.server.host"),
            Map.entry("REGMIRROR_LISTEN_PORT", "regmirror.server.port"),
            Map.entry("REGMIRROR_TLS_CERTIFICATE", "regmirror.server.tls.certificate"),
            Map.entry("REGMIRROR_TLS_PRIVATE_KEY", "regmirror.server.tls.private-key"),
            Map.entry("REGMIRROR_CACHE_DIR", "regmirror.cache.directory"),
            Map.entry("REGMIRROR_CACHE_MAX_SIZE", "regmirror.cache.max-size"),
            Map.entry("REGMIRROR_DEFAULT_UPSTREAM", "regmirror.default-upstream"),
            Map.entry("REGMIRROR_ADMIN_HOST", "regmirror.admin.host"),
            Map.entry("REGMIRROR_ADMIN_PORT", "regmirror.admin.port"),
            Map.entry("REGMIRROR_ADMIN_TOKEN", "regmirror.admin.token"),
            Map.entry("REGMIRROR_ACCESS_LOG", "regmirror.server.access-log.output"));

    private ConfigLoader() {
    }

    /** The resolved configuration from the file (if any), the environment and the defaults. */
    public static Config load(Optional<Path> file, Map<String, String> environment) {
        try {
            Config fromFile = ConfigFactory.empty();
            if (file.isPresent()) {
                if (!Files.isRegularFile(file.get())) {
                    throw new SettingsException("configuration file " + file.get() + " does not exist");
                }
                fromFile = ConfigFactory.parseFile(file.get().toFile(),
                        ConfigParseOptions.defaults().setAllowMissing(false));
                UnknownSettings.checkFile(fromFile, file.get().toString());
            }
            Config reference = ConfigFactory.defaultReferenceUnresolved();
            Config merged = fromFile.withFallback(reference);
            Config fromEnv = ConfigFactory.parseMap(named(environment, merged), "environment variables");
            Config loaded = ConfigFactory.systemEnvironmentOverrides()
                    .withFallback(fromEnv)
                    .withFallback(merged)
                    .resolve();
            UnknownSettings.check(loaded, reference.resolve());
            return loaded;
        } catch (ConfigException e) {
            throw new SettingsException("invalid configuration: " + e.getMessage(), e);
        }
    }

    private static Map<String, Object> named(Map<String, String> environment, Config merged) {
        Map<String, Object> values = new HashMap<>();
        NAMED.forEach((variable, path) -> {
            if (environment.containsKey(variable)) {
                values.put(path, environment.get(variable));
            }
        });
        if (merged.hasPath("regmirror.upstreams")) {
            for (String id : merged.getObject("regmirror.upstreams").keySet()) {
                String prefix = "REGMIRROR_UPSTREAM_" + id.toUpperCase(Locale.ROOT).replace('-', '_') + "_";
                for (String key : new String[] {"url", "username", "password", "token-realm"}) {
                    String variable = prefix + key.toUpperCase(Locale.ROOT).replace('-', '_');
                    if (environment.containsKey(variable)) {
                        values.put("regmirror.upstreams.\"" + id + "\"." + key, environment.get(variable));
                    }
                }
            }
        }
        return values;
    }
}
