package dev.regmirror.core.auth;

import dev.regmirror.core.upstream.Route;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * One entry of {@code regmirror.auth.rules}: for the images it matches and the actions it covers,
 * it refuses the callers in {@code deny}, then allows those in {@code allow} (everyone else when
 * {@code allow} is not given).
 *
 * @param images  the images the rule is about; at least one pattern
 * @param actions the actions it covers; at least one ({@code pull} when the settings say nothing)
 * @param allow   who may, when given; empty allows no one
 * @param deny    who may not
 */
public record AccessRule(List<ImagePattern> images, Set<Action> actions, Optional<List<Principal>> allow,
                         List<Principal> deny) {

    public AccessRule {
        images = List.copyOf(images);
        actions = Set.copyOf(actions);
        allow = allow.map(List::copyOf);
        deny = List.copyOf(deny);
        if (images.isEmpty()) {
            throw new IllegalArgumentException("a rule names at least one image pattern");
        }
        if (actions.isEmpty()) {
            throw new IllegalArgumentException("a rule covers at least one action");
        }
    }

    /** Whether the rule is about this image and action, and so decides. */
    boolean covers(Route route, Action action) {
        return actions.contains(action) && images.stream().anyMatch(pattern -> pattern.matches(route));
    }

    /**
     * Whether the caller is allowed by this rule. An account may do what anonymous callers may,
     * unless {@code deny} names it: signing in never takes access away.
     */
    boolean allows(Caller caller) {
        if (deny.stream().anyMatch(principal -> principal.includes(caller))) {
            return false;
        }
        if (allow.isEmpty()) {
            return true;
        }
        List<Principal> allowed = allow.get();
        return allowed.stream().anyMatch(principal -> principal.includes(caller))
                || caller instanceof Account && allowed.contains(Principal.ANONYMOUS);
    }

    /** Whether some account could be allowed by this rule, so that signing in is worth asking for. */
    boolean allowsSomeAccount() {
        if (deny.contains(Principal.AUTHENTICATED)) {
            return false;
        }
        if (allow.isEmpty()) {
            return true;
        }
        return allow.get().stream().anyMatch(principal -> principal instanceof Principal.Anonymous
                || principal instanceof Principal.Authenticated || !deny.contains(principal));
    }

    /** Whether the rule names accounts at all, which needs an htpasswd file. */
    public boolean namesAccounts() {
        return allow.orElse(List.of()).stream().anyMatch(p -> !(p instanceof Principal.Anonymous))
                || deny.stream().anyMatch(p -> !(p instanceof Principal.Anonymous));
    }
}
