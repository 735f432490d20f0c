package dev.regmirror.core.client;

import io.netty.buffer.ByteBuf;
import java.time.Duration;
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
    public Flow.Publisher<ByteBuf> publisher() {
        return this::subscribe;
    }

    private void subscribe(Flow.Subscriber<? super ByteBuf> subscriber) {
        if (!claimed.compareAndSet(false, true)) {
            subscriber.onSubscribe(new CancellingSubscriber.Nothing());
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

    private void relay(Flow.Subscriber<? super ByteBuf> subscriber) {
        try {
            body.publisher().subscribe(new Relay(subscriber));
        } catch (RuntimeException e) {
            permit.release();
            throw e;
        }
    }

    /** Passes signals and demand through unchanged, letting the permit go at the body's end. */
    private final class Relay implements Flow.Subscriber<ByteBuf>, Flow.Subscription {

        private final Flow.Subscriber<? super ByteBuf> downstream;
        private volatile Flow.Subscription upstream;

        Relay(Flow.Subscriber<? super ByteBuf> downstream) {
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
        public void onNext(ByteBuf item) {
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
}
