package dev.regmirror.core.auth.token;

import dev.regmirror.core.reference.RepositoryName;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A resource scope of the <a href="https://distribution.github.io/distribution/spec/auth/scope/">token
 * scope spec</a>, {@code type:name:action[,action...]} such as {@code repository:library/alpine:pull}:
 * what regmirror asks an upstream's token realm for, what a client asks regmirror's token endpoint
 * for, and (as an access entry) what a token grants. {@link #toString()} is the wire form.
 *
 * @param type    the resource type, with its class if any ({@code repository}, {@code repository(plugin)})
 * @param name    the resource name; may hold a registry host with a port, so it may hold colons
 * @param actions the actions, in the order given, without duplicates; at least one
 */
public record Scope(String type, String name, List<String> actions) {

    /** The resource type of repositories. */
    public static final String REPOSITORY = "repository";

    private static final Pattern TYPE = Pattern.compile("[a-z0-9]+(\\([a-z0-9]+\\))?");
    private static final Pattern ACTION = Pattern.compile("[a-z0-9_*-]+");
    private static final int MAX_NAME = 512;

    public Scope {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(actions, "actions");
        if (!TYPE.matcher(type).matches()) {
            throw new IllegalArgumentException("a scope's resource type is lower-case letters and digits");
        }
        if (name.isEmpty() || name.length() > MAX_NAME
                || !name.chars().allMatch(c -> c > 0x20 && c < 0x7f && c != '"' && c != '\\')) {
            throw new IllegalArgumentException("a scope's resource name is printable ASCII without spaces or quotes");
        }
        actions = List.copyOf(new LinkedHashSet<>(actions));
        if (actions.isEmpty() || !actions.stream().allMatch(a -> ACTION.matcher(a).matches())) {
            throw new IllegalArgumentException("a scope has one or more actions of letters, digits, '_', '-' or '*'");
        }
    }

    /** The scope to pull from one repository. */
    public static Scope pull(RepositoryName name) {
        return new Scope(REPOSITORY, name.value(), List.of("pull"));
    }

    /**
     * Reads one scope: the type is up to the first colon, the actions after the last, the name in
     * between (so {@code repository:registry.lan:5000/app:pull} names {@code registry.lan:5000/app});
     * empty when it is not a valid scope.
     */
    public static Optional<Scope> parse(String value) {
        if (value == null) {
            return Optional.empty();
        }
        int first = value.indexOf(':');
        int last = value.lastIndexOf(':');
        if (first < 0 || last <= first) {
            return Optional.empty();
        }
        try {
            return Optional.of(new Scope(value.substring(0, first), value.substring(first + 1, last),
                    List.of(value.substring(last + 1).split(",", -1))));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /** Every scope of a space-separated list, as a challenge's {@code scope} parameter holds them; empty when any is invalid. */
    public static Optional<List<Scope>> parseAll(String spaceSeparated) {
        List<Scope> scopes = new ArrayList<>();
        for (String one : spaceSeparated.trim().split("[ \t]+")) {
            if (one.isEmpty()) {
                continue;
            }
            Optional<Scope> scope = parse(one);
            if (scope.isEmpty()) {
                return Optional.empty();
            }
            scopes.add(scope.get());
        }
        return Optional.of(List.copyOf(scopes));
    }

    public boolean isRepository() {
        return REPOSITORY.equals(type);
    }

    @Override
    public String toString() {
        return type + ":" + name + ":" + String.join(",", actions);
    }
}
