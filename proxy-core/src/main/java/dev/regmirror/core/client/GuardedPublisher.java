package dev.regmirror.core.client;

import dev.regmirror.core.error.ProxyException;
import dev.regmirror.core.upstream.EndpointSettings;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Flow;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * A response body that fails its subscriber with a {@link ProxyException} when the upstream sends
 * nothing for the read timeout while the subscriber wants data, or breaks off; the subscriber's
 * demand passes through unchanged, so back-pressure reaches the connection.
 */
final class GuardedPublisher<T> implements Flow.Publisher<T> {

    private final Flow.Publisher<T> upstream;
    private final long timeoutNanos;
    private final ScheduledExecutorService scheduler;
    private final Supplier<ProxyException> onTimeout;
    private final Function<Throwable, ProxyException> onFailure;
    private final LongSupplier nanoTime;
    private final Consumer<? super T> dropped;

    /** @param dropped lets go of an item that arrives after the body ended (a buffer to release) */
    GuardedPublisher(Flow.Publisher<T> upstream, Duration readTimeout,
                     ScheduledExecutorService scheduler, Supplier<ProxyException> onTimeout,
                     Function<Throwable, ProxyException> onFailure, LongSupplier nanoTime,
                     Consumer<? super T> dropped) {
        this.upstream = upstream;
        this.timeoutNanos = readTimeout.toNanos();
        this.scheduler = scheduler;
        this.onTimeout = onTimeout;
        this.onFailure = onFailure;
        this.nanoTime = nanoTime;
        this.dropped = dropped;
    }

    /** Watches a body whose items must be let go of ({@code dropped}) when nobody takes them. */
    static <T> GuardedPublisher<T> watching(Flow.Publisher<T> body, String what, EndpointSettings settings,
                                            ScheduledExecutorService scheduler, Failures failures,
                                            Consumer<? super T> dropped) {
        Duration timeout = settings.readTimeout();
        return new GuardedPublisher<>(body, timeout, scheduler,
                () -> failures.unavailable(what, "read timed out after " + Failures.seconds(timeout), null),
                failure -> failures.map(what, failure), System::nanoTime, dropped);
    }

    @Override
    public void subscribe(Flow.Subscriber<? super T> subscriber) {
        upstream.subscribe(new Relay(subscriber));
    }

    /** Sits between the upstream body and one subscriber; signals to the subscriber never overlap. */
    private final class Relay implements Flow.Subscriber<T>, Flow.Subscription {

        private static final int IDLE = 0;
        private static final int DELIVERING = 1;
        private static final int DONE = 2;

        private final Flow.Subscriber<? super T> downstream;
        private final AtomicInteger state = new AtomicInteger(IDLE);
        private final AtomicLong demand = new AtomicLong();
        private volatile long lastProgress;
        private volatile Flow.Subscription subscription;
        private volatile ScheduledFuture<?> timer;

        Relay(Flow.Subscriber<? super T> downstream) {
            this.downstream = downstream;
            this.lastProgress = nanoTime.getAsLong();
        }

        @Override
        public void onSubscribe(Flow.Subscription subscription) {
            this.subscription = subscription;
            downstream.onSubscribe(this);
            schedule(timeoutNanos);
        }

        @Override
        public void request(long n) {
            if (n > 0 && demand.get() == 0) {
                lastProgress = nanoTime.getAsLong();
            }
            if (n > 0) {
                demand.accumulateAndGet(n, (a, b) -> a + b < 0 ? Long.MAX_VALUE : a + b);
            }
            subscription.request(n);
        }

        @Override
        public void cancel() {
            state.set(DONE);
            stopTimer();
            subscription.cancel();
        }

        /**
         * Passes every item on: one may arrive from within the subscriber's own {@code request}
         * while an earlier delivery is still on the stack, and dropping it would lose bytes. Only
         * the outermost delivery marks the relay busy for the timer.
         */
        @Override
        public void onNext(T item) {
            if (state.get() == DONE) {
                dropped.accept(item);
                return;
            }
            boolean outermost = state.compareAndSet(IDLE, DELIVERING);
            lastProgress = nanoTime.getAsLong();
            demand.decrementAndGet();
            downstream.onNext(item);
            if (outermost) {
                state.compareAndSet(DELIVERING, IDLE);
            }
        }

        @Override
        public void onError(Throwable failure) {
            if (terminate()) {
                downstream.onError(onFailure.apply(failure));
            }
        }

        @Override
        public void onComplete() {
            if (terminate()) {
                downstream.onComplete();
            }
        }

        private boolean terminate() {
            stopTimer();
            return state.getAndSet(DONE) != DONE;
        }

        /** Runs on the scheduler: fails the body if data is wanted and none came for the timeout. */
        private void check() {
            if (state.get() == DONE) {
                return;
            }
            long waited = nanoTime.getAsLong() - lastProgress;
            boolean wanting = demand.get() > 0;
            if (wanting && waited >= timeoutNanos && state.compareAndSet(IDLE, DONE)) {
                subscription.cancel();
                downstream.onError(onTimeout.get());
                return;
            }
            boolean counting = wanting && state.get() == IDLE;
            schedule(counting ? Math.max(timeoutNanos - waited, TimeUnit.MILLISECONDS.toNanos(1)) : timeoutNanos);
        }

        private void schedule(long delayNanos) {
            if (state.get() != DONE) {
                try {
                    timer = scheduler.schedule(this::check, delayNanos, TimeUnit.NANOSECONDS);
                } catch (RejectedExecutionException shuttingDown) {
                    // the process is stopping; the body goes unwatched
                }
            }
        }

        private void stopTimer() {
            ScheduledFuture<?> current = timer;
            if (current != null) {
                current.cancel(false);
            }
        }
    }
}
