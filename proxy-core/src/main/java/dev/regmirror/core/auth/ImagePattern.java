package dev.regmirror.core.auth;

import dev.regmirror.core.error.Printable;
import dev.regmirror.core.upstream.Route;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A pattern of images, {@code <registry>/<repository>} as a {@link Route} writes them, such as
 * {@code docker.io/library/*} or {@code ghcr.io/myorg/**}.
 *
 * @param value {@code *} matches within one path segment, {@code **} (a whole segment) any number of
 *              segments, even none; {@code **} alone matches every image. The registry is the
 *              canonical name ({@code docker.io}, not an alias), the repository the upstream's name
 *              ({@code library/alpine} for {@code alpine} on Docker Hub).
 */
public record ImagePattern(String value) {

    private static final Pattern SEGMENT = Pattern.compile("\\*\\*|[a-z0-9._:*-]+");

    public ImagePattern {
        Objects.requireNonNull(value, "value");
        String problem = problemWith(value);
        if (problem != null) {
            throw new IllegalArgumentException("\"" + Printable.of(value) + "\": " + problem);
        }
    }

    private static String problemWith(String value) {
        if (value.equals("**")) {
            return null;
        }
        List<String> segments = List.of(value.split("/", -1));
        if (segments.size() < 2) {
            return "a pattern is <registry>/<repository pattern>, such as docker.io/library/* or ghcr.io/org/**";
        }
        for (String segment : segments) {
            if (!SEGMENT.matcher(segment).matches() || segment.contains("**") && !segment.equals("**")) {
                return "segment \"" + Printable.of(segment) + "\" must be lower-case letters, digits, '.', '_', '-', ':'"
                        + " and '*', or '**' alone";
            }
        }
        return null;
    }

    /** The registry the pattern names, when its first segment is a plain name rather than a wildcard. */
    public Optional<String> registry() {
        String first = value.split("/", -1)[0];
        return first.contains("*") ? Optional.empty() : Optional.of(first);
    }

    public boolean matches(Route route) {
        return matches(value.split("/", -1), 0, route.toString().split("/", -1), 0);
    }

    private static boolean matches(String[] pattern, int p, String[] segments, int s) {
        if (p == pattern.length) {
            return s == segments.length;
        }
        if (pattern[p].equals("**")) {
            for (int skip = s; skip <= segments.length; skip++) {
                if (matches(pattern, p + 1, segments, skip)) {
                    return true;
                }
            }
            return false;
        }
        return s < segments.length && segmentMatches(pattern[p], segments[s]) && matches(pattern, p + 1, segments, s + 1);
    }

    /** Glob matching of one segment, where {@code *} stands for any run of characters. */
    private static boolean segmentMatches(String pattern, String segment) {
        int p = 0;
        int s = 0;
        int star = -1;
        int resume = 0;
        while (s < segment.length()) {
            if (p < pattern.length() && pattern.charAt(p) == segment.charAt(s)) {
                p++;
                s++;
            } else if (p < pattern.length() && pattern.charAt(p) == '*') {
                star = p++;
                resume = s;
            } else if (star >= 0) {
                p = star + 1;
                s = ++resume;
            } else {
                return false;
            }
        }
        while (p < pattern.length() && pattern.charAt(p) == '*') {
            p++;
        }
        return p == pattern.length();
    }

    @Override
    public String toString() {
        return value;
    }
}
