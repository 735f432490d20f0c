package dev.regmirror.core.testing;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One request as distribution's own application log (stderr) records it once handled, with
 * nanosecond times: {@code time="2026-12-02T20:04:10.652160488Z" level=info msg="response completed"
 * ... http.request.method=GET http.request.remoteaddr="127.0.0.1:47428" http.request.uri=/v2/ ...
 * http.response.duration=1.90451ms http.response.status=200}. It ended at {@code time} and was
 * handled for {@code duration}: from the registry reading the request until its handler returned,
 * a blob's body written out. The access log has neither, only the second.
 *
 * @param remoteAddress the client's address and port: one per connection
 */
public record TimedRequest(String method, String uri, int status, String remoteAddress, String userAgent,
                           Instant end, Duration duration) {

    private static final Pattern FIELD = Pattern.compile("([A-Za-z0-9_.]+)=(\"(?:[^\"\\\\]|\\\\.)*\"|\\S*)");
    private static final Pattern DURATION_PART = Pattern.compile("([0-9]+(?:\\.[0-9]+)?)(h|ms|m|s|us|µs|ns)");

    /** When the registry started on it. */
    public Instant start() {
        return end.minus(duration);
    }

    /** The request if {@code line} is a "response completed" line (with or without error), else empty. */
    static Optional<TimedRequest> parse(String line) {
        Map<String, String> fields = new HashMap<>();
        Matcher m = FIELD.matcher(line);
        while (m.find()) {
            String value = m.group(2);
            if (value.startsWith("\"")) {
                value = value.substring(1, value.length() - 1).replace("\\\"", "\"").replace("\\\\", "\\");
            }
            fields.put(m.group(1), value);
        }
        String msg = fields.getOrDefault("msg", "");
        if (!msg.startsWith("response completed") || !fields.containsKey("http.response.duration")) {
            return Optional.empty();
        }
        return Optional.of(new TimedRequest(fields.get("http.request.method"), fields.get("http.request.uri"),
                Integer.parseInt(fields.getOrDefault("http.response.status", "0")),
                fields.getOrDefault("http.request.remoteaddr", ""), fields.getOrDefault("http.request.useragent", ""),
                Instant.parse(fields.get("time")), goDuration(fields.get("http.response.duration"))));
    }

    /** A Go {@code time.Duration} as it prints: {@code 1.5s}, {@code 2m3.25s}, {@code 850µs}, {@code 12ns}. */
    static Duration goDuration(String text) {
        Matcher m = DURATION_PART.matcher(text);
        double nanos = 0;
        int at = 0;
        while (m.find() && m.start() == at) {
            double value = Double.parseDouble(m.group(1));
            nanos += value * switch (m.group(2)) {
                case "h" -> 3600e9;
                case "m" -> 60e9;
                case "s" -> 1e9;
                case "ms" -> 1e6;
                case "us", "µs" -> 1e3;
                default -> 1;
            };
            at = m.end();
        }
        if (at != text.length() || text.isEmpty()) {
            throw new IllegalArgumentException("not a Go duration: " + text);
        }
        return Duration.ofNanos(Math.round(nanos));
    }

    /**
     * The most requests the registry was handling at one instant. A request that ended exactly
     * when another started does not overlap it.
     */
    public static int maxInFlight(List<TimedRequest> requests) {
        record Edge(Instant at, int delta) {
        }
        List<Edge> edges = new ArrayList<>();
        for (TimedRequest request : requests) {
            edges.add(new Edge(request.start(), +1));
            edges.add(new Edge(request.end(), -1));
        }
        edges.sort(Comparator.comparing(Edge::at).thenComparingInt(Edge::delta));
        int now = 0;
        int max = 0;
        for (Edge edge : edges) {
            now += edge.delta();
            max = Math.max(max, now);
        }
        return max;
    }
}
