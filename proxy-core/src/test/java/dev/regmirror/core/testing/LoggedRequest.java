package dev.regmirror.core.testing;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One request from a registry's access log, which distribution writes to stdout in the Apache
 * combined format: {@code 127.0.0.1 - - [22/Nov/2026:14:11:30 +0000] "GET /v2/ HTTP/1.1" 200 2 "" "curl/7.88.1"}.
 */
public record LoggedRequest(String method, String path, String query, int status, long bytes, String userAgent) {

    private static final Pattern COMBINED = Pattern.compile(
            "^\\S+ \\S+ \\S+ \\[[^\\]]*] \"(\\S+) (\\S+) [^\"]*\" (\\d{3}) (\\d+|-) \"(?:[^\"\\\\]|\\\\.)*\" \"((?:[^\"\\\\]|\\\\.)*)\"$");

    /** The request if {@code line} is an access log line, else empty (distribution's other output). */
    static Optional<LoggedRequest> parse(String line) {
        Matcher m = COMBINED.matcher(line);
        if (!m.matches()) {
            return Optional.empty();
        }
        String uri = m.group(2);
        int q = uri.indexOf('?');
        String path = q < 0 ? uri : uri.substring(0, q);
        String query = q < 0 ? "" : uri.substring(q + 1);
        long bytes = "-".equals(m.group(4)) ? 0 : Long.parseLong(m.group(4));
        return Optional.of(new LoggedRequest(m.group(1), path, query, Integer.parseInt(m.group(3)), bytes, m.group(5)));
    }

    @Override
    public String toString() {
        return method + " " + path + (query.isEmpty() ? "" : "?" + query) + " " + status;
    }
}
