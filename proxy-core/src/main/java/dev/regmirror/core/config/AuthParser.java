package dev.regmirror.core.config;

import com.github.benmanes.caffeine.cache.Ticker;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import dev.regmirror.core.auth.AccessRule;
import dev.regmirror.core.auth.Account;
import dev.regmirror.core.auth.Accounts;
import dev.regmirror.core.auth.Action;
import dev.regmirror.core.auth.ImagePattern;
import dev.regmirror.core.auth.Principal;
import dev.regmirror.core.auth.token.SigningKey;
import dev.regmirror.core.auth.token.TokenSettings;
import dev.regmirror.core.error.Printable;
import java.io.IOException;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/** Turns {@code regmirror.auth} into {@link AuthSettings}, naming the setting on error. */
final class AuthParser {

    private static final Set<String> RULE_KEYS = Set.of("images", "allow", "deny", "actions");

    private AuthParser() {
    }

    /**
     * @param root        the {@code regmirror} block
     * @param accountOnly the registries of upstreams with {@code require-account = true}, to the upstream's id
     * @param registries  the registries of all configured upstreams
     */
    static AuthSettings parse(Config root, Map<String, String> accountOnly, Set<String> registries) {
        try {
            Config auth = root.getConfig("auth");
            Optional<Path> htpasswd = htpasswd(auth.getString("htpasswd"));
            Duration reload = auth.getDuration("htpasswd-reload");
            if (reload.isNegative() || reload.isZero()) {
                throw new SettingsException("regmirror.auth.htpasswd-reload: must be positive, was " + reload);
            }
            Set<String> admins = new LinkedHashSet<>();
            for (String admin : auth.getStringList("admins")) {
                if (!Account.isValidName(admin)) {
                    throw new SettingsException("regmirror.auth.admins: \"" + Printable.of(admin) + "\" is not an account name");
                }
                admins.add(admin);
            }
            if (!admins.isEmpty() && htpasswd.isEmpty()) {
                throw new SettingsException("regmirror.auth.admins: no account can sign in: set regmirror.auth.htpasswd");
            }
            List<AccessRule> rules = new ArrayList<>();
            List<? extends Config> listed = auth.getConfigList("rules");
            for (int i = 0; i < listed.size(); i++) {
                AccessRule rule = rule("regmirror.auth.rules." + i, listed.get(i), registries);
                if (rule.namesAccounts() && htpasswd.isEmpty()) {
                    throw new SettingsException("regmirror.auth.rules." + i + ": names accounts (authenticated or by name)"
                            + " but no account can sign in: set regmirror.auth.htpasswd");
                }
                rules.add(rule);
            }
            if (!accountOnly.isEmpty() && htpasswd.isEmpty()) {
                String id = accountOnly.values().iterator().next();
                throw new SettingsException("regmirror.upstreams." + id + ".require-account: no account can sign in: "
                        + "set regmirror.auth.htpasswd (or require-account = false; it may come from upstream-defaults)");
            }
            return new AuthSettings(htpasswd, reload, admins, rules, accountOnly.keySet(), token(auth.getConfig("token")));
        } catch (ConfigException e) {
            throw new SettingsException("regmirror.auth: " + e.getMessage(), e);
        }
    }

    private static Optional<Path> htpasswd(String value) {
        if (value.isEmpty()) {
            return Optional.empty();
        }
        Path file = path("regmirror.auth.htpasswd", value);
        try {
            Accounts.open(file, Set.of(), Ticker.systemTicker());
        } catch (IOException e) {
            throw new SettingsException("regmirror.auth.htpasswd: " + e.getMessage());
        }
        return Optional.of(file);
    }

    private static AccessRule rule(String where, Config c, Set<String> registries) {
        try {
            return ruleChecked(where, c, registries);
        } catch (ConfigException e) {
            throw new SettingsException(where + ": " + e.getMessage(), e);
        }
    }

    private static AccessRule ruleChecked(String where, Config c, Set<String> registries) {
        for (String key : c.root().keySet()) {
            if (!RULE_KEYS.contains(key)) {
                throw new SettingsException(where + "." + key + ": not a rule setting (those are " + new TreeSet<>(RULE_KEYS)
                        + ")");
            }
        }
        if (!c.hasPath("images")) {
            throw new SettingsException(where + ": set images = [\"<registry>/<repository pattern>\", ...]");
        }
        List<ImagePattern> images = new ArrayList<>();
        for (String value : c.getStringList("images")) {
            ImagePattern pattern;
            try {
                pattern = new ImagePattern(value);
            } catch (IllegalArgumentException e) {
                throw new SettingsException(where + ".images: " + e.getMessage());
            }
            if (pattern.registry().isPresent() && !registries.contains(pattern.registry().get())) {
                throw new SettingsException(where + ".images: \"" + value + "\" names registry " + pattern.registry().get()
                        + ", which no upstream serves; patterns use the registry names " + new TreeSet<>(registries));
            }
            images.add(pattern);
        }
        if (images.isEmpty()) {
            throw new SettingsException(where + ".images: at least one pattern");
        }
        if (!c.hasPath("allow") && !c.hasPath("deny")) {
            throw new SettingsException(where + ": set allow, deny or both");
        }
        Optional<List<Principal>> allow = c.hasPath("allow")
                ? Optional.of(principals(where + ".allow", c.getStringList("allow"))) : Optional.empty();
        List<Principal> deny = c.hasPath("deny") ? principals(where + ".deny", c.getStringList("deny")) : List.of();
        Set<Action> actions = EnumSet.noneOf(Action.class);
        for (String value : c.hasPath("actions") ? c.getStringList("actions") : List.of("pull")) {
            actions.add(Action.fromWire(value).orElseThrow(() -> new SettingsException(where + ".actions: \""
                    + Printable.of(value) + "\" is not pull, push or delete")));
        }
        if (actions.isEmpty()) {
            throw new SettingsException(where + ".actions: at least one of pull, push, delete");
        }
        return new AccessRule(images, actions, allow, deny);
    }

    private static List<Principal> principals(String where, List<String> values) {
        List<Principal> principals = new ArrayList<>();
        for (String value : values) {
            try {
                principals.add(Principal.parse(value));
            } catch (IllegalArgumentException e) {
                throw new SettingsException(where + ": " + e.getMessage() + " (anonymous, authenticated or an account)");
            }
        }
        return principals;
    }

    private static TokenSettings token(Config c) {
        String service = c.getString("service");
        if (!TokenSettings.isValidName(service)) {
            throw new SettingsException("regmirror.auth.token.service: \"" + Printable.of(service)
                    + "\" must be printable ASCII without spaces, quotes or backslashes");
        }
        String issuer = c.getString("issuer");
        if (!TokenSettings.isValidName(issuer)) {
            throw new SettingsException("regmirror.auth.token.issuer: \"" + Printable.of(issuer)
                    + "\" must be printable ASCII without spaces, quotes or backslashes");
        }
        Duration lifetime = c.getDuration("lifetime");
        if (lifetime.compareTo(TokenSettings.MIN_LIFETIME) < 0 || lifetime.compareTo(TokenSettings.MAX_LIFETIME) > 0) {
            throw new SettingsException("regmirror.auth.token.lifetime: must be 60s to 1h, was " + lifetime);
        }
        Optional<Path> key = Optional.empty();
        if (!c.getString("signing-key").isEmpty()) {
            Path file = path("regmirror.auth.token.signing-key", c.getString("signing-key"));
            try {
                SigningKey.read(file);
            } catch (IOException e) {
                throw new SettingsException("regmirror.auth.token.signing-key: " + e.getMessage());
            }
            key = Optional.of(file);
        }
        return new TokenSettings(service, issuer, lifetime, key);
    }

    private static Path path(String setting, String value) {
        try {
            return Path.of(value);
        } catch (InvalidPathException e) {
            throw new SettingsException(setting + ": not a valid path: " + e.getMessage());
        }
    }
}
