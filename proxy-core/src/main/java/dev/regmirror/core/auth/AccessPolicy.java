package dev.regmirror.core.auth;

import dev.regmirror.core.upstream.Route;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/** Decides whether a caller may do an action on an image, before any upstream is contacted. */
public final class AccessPolicy {

    private final List<AccessRule> rules;
    private final Set<String> accountOnlyRegistries;

    /**
     * @param rules                 {@code regmirror.auth.rules}, in order
     * @param accountOnlyRegistries the registries of the upstreams with {@code require-account = true}
     */
    public AccessPolicy(List<AccessRule> rules, Set<String> accountOnlyRegistries) {
        this.rules = List.copyOf(rules);
        this.accountOnlyRegistries = Set.copyOf(accountOnlyRegistries);
    }

    /** The policy when nothing is configured: anyone may pull anything. */
    public static AccessPolicy open() {
        return new AccessPolicy(List.of(), Set.of());
    }

    /**
     * First, an upstream that takes signed-in accounts only ({@code require-account}) turns
     * anonymous callers away; then the first rule that covers the image and action decides; when
     * rules are configured and none covers it, it is denied. With no rules everyone may pull
     * everything configured, and nothing else. Pushes and deletes are for signed-in accounts only,
     * whatever the rules say.
     */
    public AccessDecision decide(Caller caller, Route route, Action action) {
        Objects.requireNonNull(caller, "caller");
        Objects.requireNonNull(route, "route");
        Objects.requireNonNull(action, "action");
        String what = action.wire() + " of " + route;
        if (caller instanceof Caller.Anonymous && accountOnlyRegistries.contains(route.registry())) {
            return new AccessDecision.NeedsAccount(what + " needs a signed-in account: " + route.registry()
                    + " is for signed-in accounts only");
        }
        if (rules.isEmpty()) {
            return action == Action.PULL ? AccessDecision.ALLOWED
                    : new AccessDecision.Denied(what + " is denied to " + caller.describe() + ": this mirror only serves pulls");
        }
        if (action != Action.PULL && caller instanceof Caller.Anonymous) {
            return new AccessDecision.NeedsAccount(what + " needs a signed-in account: only accounts push or delete");
        }
        for (AccessRule rule : rules) {
            if (!rule.covers(route, action)) {
                continue;
            }
            if (rule.allows(caller)) {
                return AccessDecision.ALLOWED;
            }
            if (caller instanceof Caller.Anonymous && rule.allowsSomeAccount()) {
                return new AccessDecision.NeedsAccount(what + " needs a signed-in account");
            }
            return new AccessDecision.Denied(what + " is denied to " + caller.describe());
        }
        return new AccessDecision.Denied(what + " is denied to " + caller.describe()
                + ": no access rule covers it");
    }

    @Override
    public String toString() {
        return "AccessPolicy[" + rules.size() + " rules, accounts only on " + accountOnlyRegistries + "]";
    }
}
