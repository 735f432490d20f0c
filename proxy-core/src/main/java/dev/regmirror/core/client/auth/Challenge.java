package dev.regmirror.core.client.auth;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * One challenge of a {@code WWW-Authenticate} header (<a href="https://www.rfc-editor.org/rfc/rfc7235#section-4.1">
 * RFC 7235</a>), such as the {@code Bearer realm="...",service="...",scope="..."} of the
 * <a href="https://distribution.github.io/distribution/spec/auth/token/">token authentication spec</a>.
 *
 * @param scheme the auth scheme in lower case ({@code bearer}, {@code basic})
 * @param params the parameters, names in lower case, values unquoted
 */
public record Challenge(String scheme, Map<String, String> params) {

    public Challenge {
        Objects.requireNonNull(scheme, "scheme");
        scheme = scheme.toLowerCase(Locale.ROOT);
        params = Map.copyOf(params);
    }

    public boolean isBearer() {
        return "bearer".equals(scheme);
    }

    public boolean isBasic() {
        return "basic".equals(scheme);
    }

    /** A parameter by its (case-insensitive) name, if present and not blank. */
    public Optional<String> param(String name) {
        return Optional.ofNullable(params.get(name.toLowerCase(Locale.ROOT))).filter(v -> !v.isBlank());
    }

    /**
     * The challenge to answer among all {@code WWW-Authenticate} values: a Bearer challenge that
     * names a realm, else a Basic one, else none.
     */
    public static Optional<Challenge> select(List<String> headerValues) {
        List<Challenge> all = new ArrayList<>();
        for (String value : headerValues) {
            all.addAll(parseAll(value));
        }
        Optional<Challenge> bearer = all.stream().filter(c -> c.isBearer() && c.param("realm").isPresent()).findFirst();
        return bearer.isPresent() ? bearer : all.stream().filter(Challenge::isBasic).findFirst();
    }

    /** Every challenge in one header value; whatever cannot be parsed is skipped, never an exception. */
    public static List<Challenge> parseAll(String header) {
        return header == null ? List.of() : new ChallengeParser(header).challenges();
    }

    /** Reads {@code scheme param=value, param="quoted, value", next-scheme ...}. */
    private static final class ChallengeParser {

        private final String in;
        private int pos;

        ChallengeParser(String in) {
            this.in = in;
        }

        List<Challenge> challenges() {
            List<Challenge> out = new ArrayList<>();
            while (true) {
                skip(" \t,");
                String scheme = token();
                if (scheme.isEmpty()) {
                    return out;
                }
                out.add(new Challenge(scheme, params()));
            }
        }

        private Map<String, String> params() {
            Map<String, String> params = new LinkedHashMap<>();
            while (true) {
                skip(" \t,");
                int start = pos;
                String name = token();
                skip(" \t");
                if (name.isEmpty() || !peek('=')) {
                    pos = start;
                    if (name.isEmpty() && pos < in.length()) {
                        pos++;
                        continue;
                    }
                    return params;
                }
                pos++;
                skip(" \t");
                String value = peek('"') ? quoted() : token();
                params.putIfAbsent(name.toLowerCase(Locale.ROOT), value);
            }
        }

        private String token() {
            int start = pos;
            while (pos < in.length() && " \t,=\"".indexOf(in.charAt(pos)) < 0) {
                pos++;
            }
            return in.substring(start, pos);
        }

        private String quoted() {
            StringBuilder value = new StringBuilder();
            pos++;
            while (pos < in.length() && in.charAt(pos) != '"') {
                if (in.charAt(pos) == '\\' && pos + 1 < in.length()) {
                    pos++;
                }
                value.append(in.charAt(pos++));
            }
            pos = Math.min(pos + 1, in.length());
            return value.toString();
        }

        private boolean peek(char c) {
            return pos < in.length() && in.charAt(pos) == c;
        }

        private void skip(String chars) {
            while (pos < in.length() && chars.indexOf(in.charAt(pos)) >= 0) {
                pos++;
            }
        }
    }
}
