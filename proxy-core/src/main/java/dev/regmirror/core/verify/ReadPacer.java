package dev.regmirror.core.verify;

import java.util.function.LongSupplier;

/**
 * Keeps reads at or below a rate: after each read, waits until the bytes read so far could not have
 * been read faster than {@code bytesPerSecond}. The clock and the wait are injected, so tests run
 * without sleeping.
 */
final class ReadPacer {

    /** Waits some nanoseconds. */
    @FunctionalInterface
    interface Sleeper {
        void sleep(long nanos) throws InterruptedException;
    }

    /** The real one: {@link Thread#sleep}. */
    static final Sleeper THREAD_SLEEP = nanos -> Thread.sleep(nanos / 1_000_000, (int) (nanos % 1_000_000));

    private final long bytesPerSecond;
    private final LongSupplier nanoTime;
    private final Sleeper sleeper;
    private final long start;
    private long bytes;

    ReadPacer(long bytesPerSecond, LongSupplier nanoTime, Sleeper sleeper) {
        if (bytesPerSecond <= 0) {
            throw new IllegalArgumentException("bytesPerSecond must be positive");
        }
        this.bytesPerSecond = bytesPerSecond;
        this.nanoTime = nanoTime;
        this.sleeper = sleeper;
        this.start = nanoTime.getAsLong();
    }

    /** Counts {@code read} bytes, then waits as long as the rate asks. */
    void read(long read) throws InterruptedException {
        bytes += read;
        long due = (long) (bytes * 1_000_000_000.0 / bytesPerSecond);
        long ahead = due - (nanoTime.getAsLong() - start);
        if (ahead > 0) {
            sleeper.sleep(ahead);
        }
    }
}
