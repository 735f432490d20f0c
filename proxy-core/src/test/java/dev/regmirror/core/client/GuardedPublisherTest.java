package dev.regmirror.core.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.regmirror.core.error.UpstreamUnavailableException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Flow;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The read timeout and failure mapping of a body, on a hand-moved clock and a hand-run scheduler. */
class GuardedPublisherTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final UpstreamUnavailableException TIMED_OUT = new UpstreamUnavailableException("docker.io",
            "read timed out", null);

    private final AtomicLong nanos = new AtomicLong(1_000);
    private final ManualScheduler scheduler = new ManualScheduler();
    private final FakeBody upstream = new FakeBody();
    private final Recorder downstream = new Recorder();

    @AfterEach
    void stop() {
        scheduler.shutdownNow();
    }

    private void subscribe() {
        new GuardedPublisher<>(upstream, TIMEOUT, scheduler, () -> TIMED_OUT,
                failure -> new UpstreamUnavailableException("docker.io", "broke off: " + failure.getMessage(), failure),
                nanos::get, ignored -> { }).subscribe(downstream);
    }

    private void pass(Duration duration) {
        nanos.addAndGet(duration.toNanos());
        scheduler.runAll();
    }

    @Test
    void demandPassesThroughUnchanged() {
        subscribe();
        downstream.subscription.request(1);
        assertEquals(1, upstream.requested.get());

        upstream.send(3);
        downstream.subscription.request(2);

        assertEquals(3, upstream.requested.get());
        assertEquals(List.of(3), downstream.items);
    }

    @Test
    void anItemDeliveredFromWithinRequestDuringOnNextIsNotLost() {
        List<Integer> received = new ArrayList<>();
        Flow.Publisher<List<ByteBuffer>> synchronous = subscriber -> subscriber.onSubscribe(new Flow.Subscription() {
            private int sent;

            @Override
            public void request(long n) {
                // Delivers at once, on the caller's stack: legal, and re-entrant when called from onNext.
                if (sent < 5) {
                    sent++;
                    subscriber.onNext(List.of(ByteBuffer.allocate(sent)));
                    if (sent == 5) {
                        subscriber.onComplete();
                    }
                }
            }

            @Override
            public void cancel() {
            }
        });
        boolean[] completed = {false};
        new GuardedPublisher<>(synchronous, TIMEOUT, scheduler, () -> TIMED_OUT,
                failure -> TIMED_OUT, nanos::get, ignored -> { }).subscribe(new Flow.Subscriber<List<ByteBuffer>>() {
                    private Flow.Subscription subscription;

                    @Override
                    public void onSubscribe(Flow.Subscription subscription) {
                        this.subscription = subscription;
                        subscription.request(1);
                    }

                    @Override
                    public void onNext(List<ByteBuffer> item) {
                        received.add(item.get(0).remaining());
                        subscription.request(1);
                    }

                    @Override
                    public void onError(Throwable throwable) {
                    }

                    @Override
                    public void onComplete() {
                        completed[0] = true;
                    }
                });
        assertEquals(List.of(1, 2, 3, 4, 5), received);
        assertTrue(completed[0]);
    }

    @Test
    void stallWhileDataIsWantedFailsAfterTheTimeoutAndCancels() {
        subscribe();
        downstream.subscription.request(1);

        pass(TIMEOUT.minusSeconds(1));
        assertNull(downstream.failure);
        pass(Duration.ofSeconds(1));

        assertSame(TIMED_OUT, downstream.failure);
        assertTrue(upstream.cancelled);
    }

    @Test
    void dataArrivingKeepsTheBodyAlive() {
        subscribe();
        downstream.subscription.request(5);
        for (int i = 0; i < 4; i++) {
            pass(TIMEOUT.minusSeconds(5));
            upstream.send(i);
        }

        assertNull(downstream.failure);
        assertEquals(List.of(0, 1, 2, 3), downstream.items);
    }

    @Test
    void noTimeoutWhileTheSubscriberWantsNothing() {
        subscribe();
        pass(TIMEOUT.multipliedBy(3));
        assertNull(downstream.failure);

        downstream.subscription.request(1);
        pass(TIMEOUT.minusSeconds(1));
        assertNull(downstream.failure);
        pass(Duration.ofSeconds(1));

        assertSame(TIMED_OUT, downstream.failure);
    }

    @Test
    void upstreamFailureIsMapped() {
        subscribe();
        IOException reset = new IOException("connection reset");
        upstream.subscriber.onError(reset);

        UpstreamUnavailableException e = assertInstanceOf(UpstreamUnavailableException.class, downstream.failure);
        assertEquals("broke off: connection reset", e.getMessage());
        assertSame(reset, e.getCause());
    }

    @Test
    void cancelledOrCompletedBodyNeverTimesOut() {
        subscribe();
        downstream.subscription.request(1);
        downstream.subscription.cancel();
        pass(TIMEOUT.multipliedBy(2));

        assertTrue(upstream.cancelled);
        assertNull(downstream.failure);
        assertFalse(downstream.completed);
    }

    /** Runs scheduled tasks only when told to, whatever their delay. */
    private static final class ManualScheduler extends ScheduledThreadPoolExecutor {

        private final List<Runnable> tasks = new ArrayList<>();

        ManualScheduler() {
            super(1);
        }

        @Override
        public synchronized ScheduledFuture<?> schedule(Runnable task, long delay, TimeUnit unit) {
            tasks.add(task);
            return super.schedule(() -> { }, 1, TimeUnit.DAYS);
        }

        void runAll() {
            List<Runnable> due;
            synchronized (this) {
                due = new ArrayList<>(tasks);
                tasks.clear();
            }
            due.forEach(Runnable::run);
        }
    }

    /** An upstream body that sends only when told to, and records demand. */
    private static final class FakeBody implements Flow.Publisher<List<ByteBuffer>>, Flow.Subscription {

        final AtomicLong requested = new AtomicLong();
        Flow.Subscriber<? super List<ByteBuffer>> subscriber;
        volatile boolean cancelled;

        @Override
        public void subscribe(Flow.Subscriber<? super List<ByteBuffer>> subscriber) {
            this.subscriber = subscriber;
            subscriber.onSubscribe(this);
        }

        void send(int value) {
            subscriber.onNext(List.of(ByteBuffer.wrap(new byte[] {(byte) value})));
        }

        @Override
        public void request(long n) {
            requested.addAndGet(n);
        }

        @Override
        public void cancel() {
            cancelled = true;
        }
    }

    /** Records what a subscriber is told. */
    private static final class Recorder implements Flow.Subscriber<List<ByteBuffer>> {

        final List<Integer> items = new ArrayList<>();
        Flow.Subscription subscription;
        Throwable failure;
        boolean completed;

        @Override
        public void onSubscribe(Flow.Subscription subscription) {
            this.subscription = subscription;
        }

        @Override
        public void onNext(List<ByteBuffer> item) {
            items.add((int) item.get(0).get());
        }

        @Override
        public void onError(Throwable throwable) {
            failure = throwable;
        }

        @Override
        public void onComplete() {
            completed = true;
        }
    }
}
