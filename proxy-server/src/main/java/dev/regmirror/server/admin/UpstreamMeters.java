package dev.regmirror.server.admin;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.TimeUnit;

/**
 * What the meters say about one upstream since start, read from the registry that
 * {@code /metrics} answers from: its requests and their latency, the bytes received from it, the
 * blob bytes served from the cache and from it, and blob requests by result.
 *
 * @param requests       requests to the upstream ({@code regmirror.upstream.requests}, every operation)
 * @param failed         of those, the ones whose outcome was not {@code ok}
 * @param latencySeconds the time they took, added up
 */
record UpstreamMeters(long requests, long failed, double latencySeconds, double bytesFetched,
                      double servedFromCache, double servedFromUpstream, double blobHits, double blobRequests) {

    static UpstreamMeters read(MeterRegistry meters, String upstream) {
        long requests = 0;
        long failed = 0;
        double seconds = 0;
        for (Timer timer : meters.find("regmirror.upstream.requests").tag("upstream", upstream).timers()) {
            requests += timer.count();
            seconds += timer.totalTime(TimeUnit.SECONDS);
            if (!"ok".equals(timer.getId().getTag("outcome"))) {
                failed += timer.count();
            }
        }
        double hits = 0;
        double blobs = 0;
        for (Counter counter : meters.find("regmirror.blob.requests").tag("upstream", upstream).counters()) {
            blobs += counter.count();
            if ("hit".equals(counter.getId().getTag("result"))) {
                hits += counter.count();
            }
        }
        return new UpstreamMeters(requests, failed, seconds,
                sum(meters, "regmirror.upstream.bytes", upstream, null),
                sum(meters, "regmirror.served.bytes", upstream, "cache"),
                sum(meters, "regmirror.served.bytes", upstream, "upstream"), hits, blobs);
    }

    private static double sum(MeterRegistry meters, String name, String upstream, String source) {
        var search = meters.find(name).tag("upstream", upstream);
        if (source != null) {
            search = search.tag("source", source);
        }
        return search.counters().stream().mapToDouble(Counter::count).sum();
    }
}
