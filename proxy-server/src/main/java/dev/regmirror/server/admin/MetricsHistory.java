package dev.regmirror.server.admin;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The meters the console charts, sampled in memory: every {@link #HOUR_STEP} for the last hour and
 * every {@link #DAY_STEP} for the last day (360 and 288 samples), each the cache's size and free
 * disk and, per upstream, the running totals of {@link UpstreamMeters} (the console draws the
 * differences). A restart starts the history afresh. {@link #sample} reads the free disk space:
 * call it from the disk executor.
 */
public final class MetricsHistory {

    static final Duration HOUR_STEP = Duration.ofSeconds(10);
    static final Duration DAY_STEP = Duration.ofMinutes(5);
    private static final int HOUR_SAMPLES = 360;
    private static final int DAY_SAMPLES = 288;

    /** One sample: when, the cache's bytes and free disk, and each upstream's totals so far. */
    record Sample(Instant time, double cacheBytes, double freeBytes, Map<String, UpstreamMeters> upstreams) {
    }

    private final MeterRegistry meters;
    private final List<String> upstreams;
    private final Clock clock;
    private final ArrayDeque<Sample> hour = new ArrayDeque<>();
    private final ArrayDeque<Sample> day = new ArrayDeque<>();
    private Instant lastDaySample = Instant.MIN;

    public MetricsHistory(MeterRegistry meters, List<String> upstreams, Clock clock) {
        this.meters = meters;
        this.upstreams = List.copyOf(upstreams);
        this.clock = clock;
    }

    /** Takes a sample now into the hour's history, and into the day's when {@link #DAY_STEP} has passed. */
    public void sample() {
        Sample sample = now();
        synchronized (this) {
            add(hour, sample, HOUR_SAMPLES);
            if (!sample.time().isBefore(lastDaySample.plus(DAY_STEP).minusSeconds(1))) {
                add(day, sample, DAY_SAMPLES);
                lastDaySample = sample.time();
            }
        }
    }

    /** The interval {@link #sample} should be called at. */
    public static Duration step() {
        return HOUR_STEP;
    }

    /** The history as {@code GET /admin/history} answers it, ending with a sample taken now. */
    ObjectNode toJson(ObjectMapper mapper) {
        Sample now = now();
        List<Sample> hourCopy;
        List<Sample> dayCopy;
        synchronized (this) {
            hourCopy = new ArrayList<>(hour);
            dayCopy = new ArrayList<>(day);
        }
        hourCopy.add(now);
        dayCopy.add(now);
        ObjectNode body = mapper.createObjectNode();
        body.put("upstreams", mapper.valueToTree(upstreams));
        series(body.putObject("hour"), HOUR_STEP, hourCopy);
        series(body.putObject("day"), DAY_STEP, dayCopy);
        return body;
    }

    private static void series(ObjectNode node, Duration step, List<Sample> samples) {
        node.put("stepSeconds", step.toSeconds());
        var list = node.putArray("samples");
        for (Sample sample : samples) {
            ObjectNode json = list.addObject();
            json.put("time", sample.time().toString());
            json.put("cacheBytes", (long) sample.cacheBytes());
            json.put("freeBytes", (long) sample.freeBytes());
            ObjectNode perUpstream = json.putObject("upstreams");
            sample.upstreams().forEach((name, counted) -> {
                ObjectNode entry = perUpstream.putObject(name);
                entry.put("servedFromCache", (long) counted.servedFromCache());
                entry.put("servedFromUpstream", (long) counted.servedFromUpstream());
                entry.put("fetched", (long) counted.bytesFetched());
                entry.put("blobHits", (long) counted.blobHits());
                entry.put("blobRequests", (long) counted.blobRequests());
                entry.put("requests", counted.requests());
                entry.put("failedRequests", counted.failed());
            });
        }
    }

    private Sample now() {
        Map<String, UpstreamMeters> perUpstream = new LinkedHashMap<>();
        for (String upstream : upstreams) {
            perUpstream.put(upstream, UpstreamMeters.read(meters, upstream));
        }
        return new Sample(clock.instant(), gauge("regmirror.cache.bytes"), gauge("regmirror.cache.disk.free"),
                perUpstream);
    }

    private double gauge(String name) {
        Gauge gauge = meters.find(name).gauge();
        return gauge == null ? 0 : gauge.value();
    }

    private static void add(ArrayDeque<Sample> samples, Sample sample, int max) {
        samples.addLast(sample);
        while (samples.size() > max) {
            samples.removeFirst();
        }
    }
}
