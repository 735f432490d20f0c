package dev.regmirror.core.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigUtil;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Refuses settings under {@code regmirror} that no module knows, so that a misspelt key
 * ({@code server.prot}) stops start-up instead of being silently ignored, and a configuration file
 * with settings outside the {@code regmirror} block ({@code server { port = 5443 }}, which would
 * otherwise leave the mirror running on its defaults: open, where the file meant it locked). Known
 * are the paths of the {@code reference.conf} files, and inside an upstream the upstream-defaults
 * keys plus its own.
 */
final class UnknownSettings {

    private static final Set<String> UPSTREAM_ONLY = Set.of("registry", "url", "username", "password", "token-realm");
    private static final Set<String> LISTENER_KEYS = Set.of("host", "port", "allow", "tls.certificate", "tls.private-key");

    private UnknownSettings() {
    }

    /** Refuses a file whose top level holds anything but the {@code regmirror} block. */
    static void checkFile(Config fromFile, String file) {
        Set<String> outside = new TreeSet<>(fromFile.root().keySet());
        outside.remove("regmirror");
        if (!outside.isEmpty()) {
            String first = outside.iterator().next();
            throw new SettingsException("configuration file " + file + ": setting" + (outside.size() > 1 ? "s " : " ")
                    + String.join(", ", outside) + " outside the regmirror block; every setting goes under regmirror"
                    + " (" + first + " ... is regmirror." + first + " ...)");
        }
    }

    static void check(Config loaded, Config reference) {
        Set<String> unknown = new TreeSet<>();
        if (!loaded.hasPath("regmirror")) {
            return;
        }
        Set<String> defaults = reference.hasPath("regmirror.upstream-defaults")
                ? reference.getObject("regmirror.upstream-defaults").keySet() : Set.of();
        loaded.getConfig("regmirror").entrySet().forEach(entry -> {
            String path = "regmirror." + entry.getKey();
            List<String> parts = ConfigUtil.splitPath(path);
            if (parts.size() >= 2 && parts.get(1).equals("local-aliases")) {
                return;
            }
            if (parts.size() >= 5 && parts.get(1).equals("server") && parts.get(2).equals("listeners")) {
                String key = String.join(".", parts.subList(4, parts.size()));
                if (!LISTENER_KEYS.contains(key)) {
                    unknown.add(path);
                }
                return;
            }
            if (parts.size() == 4 && parts.get(1).equals("upstreams")) {
                if (!defaults.contains(parts.get(3)) && !UPSTREAM_ONLY.contains(parts.get(3))) {
                    unknown.add(path);
                }
                return;
            }
            if (!reference.hasPathOrNull(path)) {
                unknown.add(path);
            }
        });
        if (!unknown.isEmpty()) {
            throw new SettingsException("unknown setting" + (unknown.size() > 1 ? "s " : " ") + String.join(", ", unknown)
                    + ": check the spelling against docs/configuration.md");
        }
    }
}
