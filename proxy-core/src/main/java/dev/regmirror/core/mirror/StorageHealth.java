package dev.regmirror.core.mirror;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether the cache can take new blobs. After a storage failure, blobs are streamed straight
 * through without caching for a while, then caching is tried again. Warns once per condition (not
 * once per blob) and counts failures and uncached transfers.
 */
public final class StorageHealth {

    private static final Logger LOG = LoggerFactory.getLogger(StorageHealth.class);

    private final Clock clock;
    private final Duration retryAfter;
    private final Counter writeFailures;
    private final Counter readFailures;
    private final Counter uncached;
    private volatile Instant troubledUntil = Instant.MIN;

    public StorageHealth(Clock clock, Duration retryAfter, MeterRegistry meters) {
        this.clock = clock;
        this.retryAfter = retryAfter;
        this.writeFailures = Counter.builder("regmirror.cache.write.failures")
                .description("blobs the cache failed to store (disk full, write errors)").register(meters);
        this.readFailures = Counter.builder("regmirror.cache.read.failures")
                .description("blob lookups the cache failed to answer (a store not answering, read errors)")
                .register(meters);
        this.uncached = Counter.builder("regmirror.blobs.uncached")
                .description("blob transfers streamed straight through without caching").register(meters);
    }

    /** Whether new blobs should bypass the cache now. */
    public boolean troubled() {
        return clock.instant().isBefore(troubledUntil);
    }

    /** Records a storage failure, counted as a read or a write; the first of a condition is logged. */
    public synchronized void failed(StorageFailure failure) {
        (failure.operation() == StorageFailure.Operation.READ ? readFailures : writeFailures).increment();
        if (!troubled()) {
            LOG.warn("{} ({}); streaming blobs through uncached for {}s, then trying again", failure.condition(),
                    failure.getMessage(), retryAfter.toSeconds());
        }
        troubledUntil = clock.instant().plus(retryAfter);
    }

    /** Counts one transfer that went to the client without being cached. */
    public void servedUncached() {
        uncached.increment();
    }
}
