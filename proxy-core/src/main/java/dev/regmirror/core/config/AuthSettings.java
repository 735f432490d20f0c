package dev.regmirror.core.config;

import dev.regmirror.core.auth.AccessPolicy;
import dev.regmirror.core.auth.AccessRule;
import dev.regmirror.core.auth.token.TokenSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Settings of who may pull ({@code regmirror.auth}, and each upstream's {@code require-account}):
 * the htpasswd file and how often it is checked for changes, the administrators, the access rules,
 * the registries for signed-in accounts only, and the token endpoint.
 *
 * @param htpasswd              the htpasswd file of the accounts, if any
 * @param htpasswdReload        how often the file is checked for changes
 * @param admins                the accounts that are administrators
 * @param rules                 the access rules, in order
 * @param accountOnlyRegistries the registries whose upstream has {@code require-account = true}
 * @param token                 the token endpoint's settings
 */
public record AuthSettings(Optional<Path> htpasswd, Duration htpasswdReload, Set<String> admins, List<AccessRule> rules,
                           Set<String> accountOnlyRegistries, TokenSettings token) {

    public AuthSettings {
        Objects.requireNonNull(htpasswd, "htpasswd");
        Objects.requireNonNull(htpasswdReload, "htpasswdReload");
        admins = Set.copyOf(admins);
        rules = List.copyOf(rules);
        accountOnlyRegistries = Set.copyOf(accountOnlyRegistries);
        Objects.requireNonNull(token, "token");
    }

    /** Nothing configured: no accounts, no rules, everyone may pull. */
    public static AuthSettings open() {
        return new AuthSettings(Optional.empty(), Duration.ofSeconds(10), Set.of(), List.of(), Set.of(),
                TokenSettings.defaults());
    }

    /**
     * Whether anything is asked of clients: accounts, rules, or a registry for accounts only.
     * Without, the registry API answers everyone as an open mirror does, with no token endpoint.
     */
    public boolean enabled() {
        return htpasswd.isPresent() || !rules.isEmpty() || !accountOnlyRegistries.isEmpty();
    }

    /**
     * Whether some caller may pull less than everything: rules, or a registry for accounts only.
     * Accounts alone restrict nothing (everyone may pull everything).
     */
    public boolean restrictsPulls() {
        return !rules.isEmpty() || !accountOnlyRegistries.isEmpty();
    }

    /** The access policy these settings describe. */
    public AccessPolicy policy() {
        return new AccessPolicy(rules, accountOnlyRegistries);
    }
}
