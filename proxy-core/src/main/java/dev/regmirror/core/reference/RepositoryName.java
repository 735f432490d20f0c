package dev.regmirror.core.reference;

import dev.regmirror.core.error.InvalidRequestException;
import dev.regmirror.core.error.Printable;
import dev.regmirror.core.error.RegistryErrorCode;
import java.util.List;
import java.util.regex.Pattern;

/**
 * A repository name such as {@code library/alpine}: slash-separated components of the grammar in
 * the <a href="https://github.com/opencontainers/distribution-spec/blob/main/spec.md#pulling-manifests">
 * distribution spec</a>, at most 255 characters. A valid name never holds {@code ..}, an empty
 * component or an absolute path, so it is safe to turn into a relative path.
 */
public record RepositoryName(String value) {

    private static final Pattern COMPONENT = Pattern.compile("[a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*");
    private static final int MAX_LENGTH = 255;

    public RepositoryName {
        String problem = problemWith(value);
        if (problem != null) {
            throw new InvalidRequestException(RegistryErrorCode.NAME_INVALID,
                    "invalid repository name \"" + Printable.of(value) + "\": " + problem);
        }
    }

    /** What is wrong with the value as a repository name, or null if nothing is. */
    static String problemWith(String value) {
        if (value == null || value.isEmpty()) {
            return "empty";
        }
        if (value.length() > MAX_LENGTH) {
            return "longer than " + MAX_LENGTH + " characters";
        }
        for (String component : value.split("/", -1)) {
            if (!COMPONENT.matcher(component).matches()) {
                return "component \"" + Printable.of(component)
                        + "\" must be lower-case letters and digits, separated by '.', '_', '__' or '-'";
            }
        }
        return null;
    }

    /** Whether the value is a valid name, without building one. */
    public static boolean isValid(String value) {
        return problemWith(value) == null;
    }

    public List<String> components() {
        return List.of(value.split("/"));
    }

    /** This name with another component in front ({@code library} + {@code alpine}). */
    public RepositoryName prefixedWith(String component) {
        return new RepositoryName(component + "/" + value);
    }

    @Override
    public String toString() {
        return value;
    }
}
