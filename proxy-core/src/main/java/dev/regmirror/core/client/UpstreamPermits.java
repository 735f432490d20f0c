package dev.regmirror.core.client;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.regmirror.core.error.UpstreamUnavailableException;
import dev.regmirror.core.upstream.UpstreamLimits;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Hands out the turns of one upstream's requests in the order they were asked for: at most
 * max-connections {@link Permit}s out at once, and at most max-requests-per-second handed out on
 * average (a token bucket holding one second's worth). A request that waits longer than its
 * upstream's read timeout fails with 503 UNAVAILABLE naming the limit. No thread ever waits: a
 * waiting request is a future, completed on the executor when its turn comes; refills and
 * deadlines are timers on the scheduler.
 */
final class UpstreamPermits {

    private final String registry;
    private final UpstreamLimits limits;
    private final ScheduledExecutorService scheduler;
    private final Executor executor;
    private final Ticker ticker;
    /** Nanoseconds per token, 0 without a rate limit. */
    private final long interval;
    /** Nanoseconds the bucket takes to fill from empty. */
    private final long capacity;
    private final Counter connectionTimeouts;
    private final Counter rateTimeouts;

    // Guarded by this.
    private final ArrayDeque<Waiter> queue = new ArrayDeque<>();
    private int inUse;
    /** The ticker time at which the token bucket will be full (the generic cell rate algorithm's one number). */
    private long bucketFull;
    private ScheduledFuture<?> wakeup;
    private long wakeupAt;

    /**
     * @param executor where a waiting request resumes when its turn comes, never on the thread that
     *                 let a permit go (which may be an event loop)
     * @param meters   where {@code regmirror.upstream.waiting} and {@code regmirror.upstream.wait.timeouts} are kept
     */
    UpstreamPermits(String registry, UpstreamLimits limits, ScheduledExecutorService scheduler, Executor executor,
                    Ticker ticker, MeterRegistry meters) {
        this.registry = registry;
        this.limits = limits;
        this.scheduler = scheduler;
        this.executor = executor;
        this.ticker = ticker;
        double rate = limits.maxRequestsPerSecond();
        this.interval = rate > 0 ? Math.max(1, Math.round(1e9 / rate)) : 0;
        this.capacity = interval * Math.max(1, (long) Math.ceil(rate));
        this.bucketFull = ticker.read();
        Gauge.builder("regmirror.upstream.waiting", this, UpstreamPermits::waiting)
                .description("requests waiting for their turn at the upstream (max-connections, max-requests-per-second)")
                .tag("upstream", registry).register(meters);
        this.connectionTimeouts = timeouts(meters, "max-connections");
        this.rateTimeouts = timeouts(meters, "max-requests-per-second");
    }

    private Counter timeouts(MeterRegistry meters, String limit) {
        return Counter.builder("regmirror.upstream.wait.timeouts")
                .description("requests that waited the read timeout for their turn at the upstream and failed")
                .tags("upstream", registry, "limit", limit).register(meters);
    }

    /** One request's turn: let go once, however often {@link #release()} is called. */
    final class Permit {

        private final AtomicBoolean released = new AtomicBoolean();

        private Permit() {
        }

        /** Gives the turn to the next waiting request; only the first call counts. */
        void release() {
            if (released.compareAndSet(false, true)) {
                released();
            }
        }
    }

    /** A request waiting for its turn. */
    private static final class Waiter {

        final String what;
        final CompletableFuture<Permit> turn = new CompletableFuture<>();
        /** Guarded by the permits' lock: in the queue. */
        boolean waiting = true;
        /** Guarded by the permits' lock. */
        ScheduledFuture<?> deadline;

        Waiter(String what) {
            this.what = what;
        }
    }

    /**
     * The request's turn: at once when a permit is free (on the caller's thread), else when its
     * turn comes (on the executor). Fails with an {@link UpstreamUnavailableException} after the
     * read timeout.
     *
     * @param what how messages name the request ("pull manifest latest of library/alpine")
     */
    CompletableFuture<Permit> acquire(String what) {
        Waiter waiter = new Waiter(what);
        List<Waiter> granted;
        synchronized (this) {
            queue.addLast(waiter);
            granted = grantable();
        }
        hand(granted, waiter);
        if (!granted.contains(waiter)) {
            armDeadline(waiter);
        }
        return waiter.turn;
    }

    /** Requests waiting now. */
    synchronized int waiting() {
        return queue.size();
    }

    /** Permits out now. */
    synchronized int inUse() {
        return inUse;
    }

    private void armDeadline(Waiter waiter) {
        ScheduledFuture<?> deadline;
        try {
            deadline = scheduler.schedule(() -> expire(waiter), limits.maxWait().toNanos(), TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException stopping) {
            synchronized (this) {
                if (!waiter.waiting) {
                    return;
                }
                queue.remove(waiter);
                waiter.waiting = false;
            }
            waiter.turn.completeExceptionally(new UpstreamUnavailableException(registry, waiter.what + " from "
                    + registry + ": regmirror is stopping", stopping));
            return;
        }
        synchronized (this) {
            if (waiter.waiting) {
                waiter.deadline = deadline;
                return;
            }
        }
        deadline.cancel(false);
    }

    private void released() {
        List<Waiter> granted;
        synchronized (this) {
            inUse--;
            granted = grantable();
        }
        hand(granted, null);
    }

    /** Runs on the scheduler once the bucket has the token the first waiter needs. */
    private void refilled() {
        List<Waiter> granted;
        synchronized (this) {
            wakeup = null;
            granted = grantable();
        }
        hand(granted, null);
    }

    /** Takes the waiters whose turn it is, first come first: while a permit is free and a token there. */
    private List<Waiter> grantable() {
        List<Waiter> granted = new ArrayList<>(1);
        while (!queue.isEmpty() && (limits.maxConnections() == 0 || inUse < limits.maxConnections())) {
            long now = ticker.read();
            long wait = takeToken(now);
            if (wait > 0) {
                wakeUpIn(now, wait);
                break;
            }
            Waiter next = queue.pollFirst();
            next.waiting = false;
            if (next.deadline != null) {
                next.deadline.cancel(false);
            }
            inUse++;
            granted.add(next);
        }
        return granted;
    }

    /** Takes a token: 0 if the bucket had one, else the nanoseconds until it will (none is taken). */
    private long takeToken(long now) {
        if (interval == 0) {
            return 0;
        }
        long next = (bucketFull - now > 0 ? bucketFull : now) + interval;
        long wait = next - now - capacity;
        if (wait > 0) {
            return wait;
        }
        bucketFull = next;
        return 0;
    }

    private void wakeUpIn(long now, long wait) {
        long at = now + wait;
        if (wakeup != null && at - wakeupAt >= 0) {
            return;
        }
        if (wakeup != null) {
            wakeup.cancel(false);
        }
        try {
            wakeup = scheduler.schedule(this::refilled, wait, TimeUnit.NANOSECONDS);
            wakeupAt = at;
        } catch (RejectedExecutionException stopping) {
            wakeup = null;
        }
    }

    /** Gives each granted waiter its permit: the caller's own at once, the others on the executor. */
    private void hand(List<Waiter> granted, Waiter own) {
        for (Waiter waiter : granted) {
            Permit permit = new Permit();
            if (waiter == own) {
                give(waiter, permit);
                continue;
            }
            try {
                executor.execute(() -> give(waiter, permit));
            } catch (RejectedExecutionException stopping) {
                permit.release();
                waiter.turn.completeExceptionally(new UpstreamUnavailableException(registry, waiter.what + " from "
                        + registry + ": regmirror is stopping", stopping));
            }
        }
    }

    private static void give(Waiter waiter, Permit permit) {
        if (!waiter.turn.complete(permit)) {
            permit.release();
        }
    }

    /** Runs on the scheduler when a waiter's read timeout is up: fails it, naming the limit it waited for. */
    private void expire(Waiter waiter) {
        boolean connections;
        synchronized (this) {
            if (!waiter.waiting) {
                return;
            }
            queue.remove(waiter);
            waiter.waiting = false;
            connections = limits.maxConnections() > 0 && inUse >= limits.maxConnections();
        }
        (connections ? connectionTimeouts : rateTimeouts).increment();
        UpstreamUnavailableException failure = new UpstreamUnavailableException(registry,
                waiter.what + " from " + registry + ": waited " + Failures.seconds(limits.maxWait()) + " for "
                        + (connections ? connectionsWaitedFor() : rateWaitedFor()), null);
        try {
            executor.execute(() -> waiter.turn.completeExceptionally(failure));
        } catch (RejectedExecutionException stopping) {
            waiter.turn.completeExceptionally(failure);
        }
    }

    /** "one of 2 connections (regmirror.upstreams.dockerhub.max-connections)". */
    private String connectionsWaitedFor() {
        int max = limits.maxConnections();
        return (max == 1 ? "its one connection" : "one of " + max + " connections") + " (" + limits.setting()
                + ".max-connections)";
    }

    /** "its turn at 5 requests per second (regmirror.upstreams.dockerhub.max-requests-per-second)". */
    private String rateWaitedFor() {
        String rate = limits.perSecond();
        return "its turn at " + rate + (rate.equals("1") ? " request" : " requests") + " per second ("
                + limits.setting() + ".max-requests-per-second)";
    }
}
