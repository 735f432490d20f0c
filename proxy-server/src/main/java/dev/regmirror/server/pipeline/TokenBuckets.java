package dev.regmirror.server.pipeline;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
import java.net.InetAddress;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The request budget of each client address of one listener: a token bucket of {@code burst}
 * tokens refilled at {@code perSecond}, kept as the one number of the equivalent generic cell rate
 * algorithm (when the bucket will next be full) and taken from without a lock. An address idle until
 * its bucket is full again is forgotten, which loses nothing; at most 100,000 are kept.
 */
public final class TokenBuckets {

    private static final int MAX_ADDRESSES = 100_000;

    private final double perSecond;
    private final int burst;
    private final Ticker ticker;
    /** Nanoseconds per token. */
    private final long interval;
    /** Nanoseconds a bucket takes to fill from empty. */
    private final long capacity;
    /** By address: the ticker time at which its bucket will be full. */
    private final Cache<InetAddress, AtomicLong> full;

    public TokenBuckets(double perSecond, int burst, Ticker ticker) {
        if (!(perSecond > 0) || burst < 1) {
            throw new IllegalArgumentException("a token bucket needs a positive rate and a burst of at least 1");
        }
        this.perSecond = perSecond;
        this.burst = burst;
        this.ticker = ticker;
        this.interval = Math.max(1, Math.round(1e9 / perSecond));
        this.capacity = interval * burst;
        this.full = Caffeine.newBuilder().ticker(ticker).expireAfterAccess(Duration.ofNanos(capacity))
                .maximumSize(MAX_ADDRESSES).build();
    }

    /** Takes a token of the address: 0 if it had one, else the nanoseconds until it will. */
    public long take(InetAddress client) {
        long now = ticker.read();
        AtomicLong bucket = full.get(client, address -> new AtomicLong(now));
        while (true) {
            long current = bucket.get();
            long next = Math.max(current, now) + interval;
            long wait = next - now - capacity;
            if (wait > 0) {
                return wait;
            }
            if (bucket.compareAndSet(current, next)) {
                return 0;
            }
        }
    }

    /** The rate as messages write it: {@code 5}, {@code 0.5}. */
    public String perSecond() {
        return perSecond == Math.rint(perSecond) ? String.valueOf((long) perSecond) : String.valueOf(perSecond);
    }

    public int burst() {
        return burst;
    }

    /** Addresses remembered now (after pending expiries are done). */
    long addresses() {
        full.cleanUp();
        return full.estimatedSize();
    }
}
