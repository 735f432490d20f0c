package dev.regmirror.core.reference;

import dev.regmirror.core.error.InvalidRequestException;
import dev.regmirror.core.error.Printable;
import dev.regmirror.core.error.RegistryErrorCode;
import java.util.List;

/**
 * A repository name such as {@code library/alpine}: slash-separated components of the grammar in
 * the <a href="https://github.com/opencontainers/distribution-spec/blob/main/spec.md#pulling-manifests">
 * distribution spec</a>, at most 255 characters. A valid name never holds {@code ..}, an empty
 * component or an absolute path, so it is safe to turn into a relative path.
 */
public record RepositoryName(String value) {

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
            if (!isComponent(component)) {
                return "component \"" + Printable.of(component)
                        + "\" must be lower-case letters and digits, separated by '.', '_', '__' or '-'";
            }
        }
        return null;
    }

    /**
     * Whether the value is one component, {@code [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*}: runs of
     * lower-case letters and digits joined by {@code .}, {@code _}, {@code __} or dashes. A scan,
     * not a regular expression: every request's name is checked.
     */
    static boolean isComponent(String component) {
        int i = 0;
        int length = component.length();
        while (true) {
            int run = i;
            while (i < length && isAlphanumeric(component.charAt(i))) {
                i++;
            }
            if (i == run) {
                return false; // empty, or a separator at the start, at the end or after another
            }
            if (i == length) {
                return true;
            }
            char separator = component.charAt(i);
            if (separator == '.') {
                i++;
            } else if (separator == '_') {
                i += i + 1 < length && component.charAt(i + 1) == '_' ? 2 : 1;
            } else if (separator == '-') {
                while (i < length && component.charAt(i) == '-') {
                    i++;
                }
            } else {
                return false;
            }
        }
    }

    private static boolean isAlphanumeric(char c) {
        return c >= 'a' && c <= 'z' || c >= '0' && c <= '9';
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
