package dev.regmirror.server.pipeline;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.channel.Channel;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logs a client's refusal at WARN at most once per kind, address and minute, so that a flood writes
 * a line a minute rather than a line a request, and counts every refusal in
 * {@code regmirror.client.refusals} by listener and kind. One per listener.
 */
public final class RefusalLog {

    /** Why a client was refused. */
    public enum Kind { CONNECTIONS, RATE, HEAD_TIMEOUT, REQUEST_LINE, HEADERS }

    static final Duration INTERVAL = Duration.ofMinutes(1);
    /** Addresses remembered at once; past it the least recent are forgotten (and may log again early). */
    private static final int REMEMBERED = 10_000;
    private static final Logger LOG = LoggerFactory.getLogger(RefusalLog.class);

    private record Key(Kind kind, String client) {
    }

    private final String listener;
    private final Cache<Key, Boolean> logged;
    private final Map<Kind, Counter> counters = new EnumMap<>(Kind.class);

    /** @param listener the listener's name in the log and the metric: {@code registry} or {@code admin} */
    public RefusalLog(String listener, Ticker ticker, MeterRegistry meters) {
        this.listener = listener;
        this.logged = Caffeine.newBuilder().ticker(ticker).expireAfterWrite(INTERVAL).maximumSize(REMEMBERED).build();
        for (Kind kind : Kind.values()) {
            counters.put(kind, Counter.builder("regmirror.client.refusals")
                    .description("connections and requests refused by regmirror.server.limits")
                    .tag("listener", listener).tag("kind", kind.name().toLowerCase(Locale.ROOT).replace('_', '-')).register(meters));
        }
    }

    /**
     * Counts a refusal and logs it unless one of its kind from the same address was logged within
     * the interval.
     *
     * @param what what was done and why, with SLF4J placeholders for {@code args}; the line starts
     *             "client &lt;address&gt; of the &lt;listener&gt; listener: "
     */
    void refused(Kind kind, Channel channel, String what, Object... args) {
        counters.get(kind).increment();
        String client = ClientAddress.describe(channel);
        if (logged.asMap().putIfAbsent(new Key(kind, client), Boolean.TRUE) != null || !LOG.isWarnEnabled()) {
            return;
        }
        Object[] all = new Object[args.length + 2];
        all[0] = client;
        all[1] = listener;
        System.arraycopy(args, 0, all, 2, args.length);
        LOG.warn("client {} of the {} listener: " + what + "; such lines are logged at most once a minute per address", all);
    }
}
