package dev.regmirror.core.client;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Flow;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A blob body that holds its request's turn at the upstream until the body is over: read to the
 * end, failed (a stall past the read timeout, a break), or cancelled by its reader (a client that
 * left, a fill given up). A body nobody subscribes to within the read timeout is cancelled, so a
 * forgotten body cannot hold its connection, and its turn, for ever.
 */
final class PermitBody implements BlobBody {

    private static final Logger LOG = LoggerFactory.getLogger(PermitBody.class);

    private final BlobBody body;
    private final UpstreamPermits.Permit permit;
    private final String what;
    private final Duration unreadLimit;
    private final AtomicBoolean claimed = new AtomicBoolean();
    private volatile ScheduledFuture<?> unread;

    private PermitBody(BlobBody body, UpstreamPermits.Permit permit, String what, Duration unreadLimit) {
        this.body = body;
        this.permit = permit;
        this.what = what;
        this.unreadLimit = unreadLimit;
    }

    /**
     * {@code body}, holding {@code permit} until it is over, and cancelled if nobody subscribes
     * within {@code unreadLimit}.
     *
     * @param what how messages name the request ("pull blob sha256:ab12… of library/alpine from docker.io")
     */
    static PermitBody holding(BlobBody body, UpstreamPermits.Permit permit, String what, Duration unreadLimit,
                              ScheduledExecutorService scheduler) {
        PermitBody held = new PermitBody(body, permit, what, unreadLimit);
        try {
            held.unread = scheduler.schedule(held::abandon, unreadLimit.toNanos(), TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException stopping) {
            // the process is stopping: the body goes unwatched
        }
        return held;
    }

    @Override
    public long contentLength() {
        return body.contentLength();
    }

    @Override
    public Flow.Publisher<List<ByteBuffer>> publisher() {
        return this::subscribe;
    }

    private void subscribe(Flow.Subscriber<? super List<ByteBuffer>> subscriber) {
        if (!claimed.compareAndSet(false, true)) {
            subscriber.onSubscribe(Nothing.INSTANCE);
            subscriber.onError(new IllegalStateException(what + ": the body was subscribed to twice, or given up"
                    + " after nobody read it for " + Failures.seconds(unreadLimit)));
            return;
        }
        ScheduledFuture<?> timer = unread;
        if (timer != null) {
            timer.cancel(false);
        }
        relay(subscriber);
    }

    /** Runs on the scheduler: nobody subscribed in time, so the body is cancelled and the turn let go. */
    private void abandon() {
        if (claimed.compareAndSet(false, true)) {
            LOG.warn("{}: nobody read the body within {}; cancelled it, so the upstream connection is let go", what,
                    Failures.seconds(unreadLimit));
            relay(new CancellingSubscriber());
        }
    }

    private void relay(Flow.Subscriber<? super List<ByteBuffer>> subscriber) {
        try {
            body.publisher().subscribe(new Relay(subscriber));
        } catch (RuntimeException e) {
            permit.release();
            throw e;
        }
    }

    /** Passes signals and demand through unchanged, letting the permit go at the body's end. */
    private final class Relay implements Flow.Subscriber<List<ByteBuffer>>, Flow.Subscription {

        private final Flow.Subscriber<? super List<ByteBuffer>> downstream;
        private volatile Flow.Subscription upstream;

        Relay(Flow.Subscriber<? super List<ByteBuffer>> downstream) {
            this.downstream = downstream;
        }

        @Override
        public void onSubscribe(Flow.Subscription subscription) {
            upstream = subscription;
            downstream.onSubscribe(this);
        }

        @Override
        public void request(long n) {
            upstream.request(n);
        }

        @Override
        public void cancel() {
            try {
                upstream.cancel();
            } finally {
                permit.release();
            }
        }

        @Override
        public void onNext(List<ByteBuffer> item) {
            downstream.onNext(item);
        }

        @Override
        public void onError(Throwable failure) {
            permit.release();
            downstream.onError(failure);
        }

        @Override
        public void onComplete() {
            permit.release();
            downstream.onComplete();
        }
    }

    /** The subscription of a body that has nothing to give. */
    private enum Nothing implements Flow.Subscription {
        INSTANCE;

        @Override
        public void request(long n) {
        }

        @Override
        public void cancel() {
        }
    }
}
