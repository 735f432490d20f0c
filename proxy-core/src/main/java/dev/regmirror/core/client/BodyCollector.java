package dev.regmirror.core.client;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;

/**
 * Reads a small body (a manifest, an error, a token) into bytes, cancelling once it passes a limit
 * (the result then fails with {@link TooLarge}) or takes longer than its deadline in all ({@link
 * TooSlow}): a body trickled a byte at a time stays under the read timeout between reads, and would
 * otherwise hold every request waiting on it for as long as the upstream liked.
 */
final class BodyCollector implements Flow.Subscriber<List<ByteBuffer>> {

    /** The body went past the limit; nothing more was read. */
    static final class TooLarge extends RuntimeException {

        TooLarge(int limit) {
            super("larger than " + limit + " bytes", null, false, false);
        }
    }

    /** The body did not arrive whole within its deadline; nothing more was read. */
    static final class TooSlow extends RuntimeException {

        TooSlow() {
            super("not whole within the deadline", null, false, false);
        }
    }

    private final int limit;
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final CompletableFuture<byte[]> result = new CompletableFuture<>();
    private Flow.Subscription subscription;

    private BodyCollector(int limit) {
        this.limit = limit;
    }

    /**
     * The whole body, or a failure with {@link TooLarge} past {@code limit} bytes or with {@link
     * TooSlow} when it is not all there within {@code deadline}.
     */
    static CompletableFuture<byte[]> collect(Flow.Publisher<List<ByteBuffer>> body, int limit, Duration deadline) {
        BodyCollector collector = new BodyCollector(limit);
        body.subscribe(collector);
        // A timer that is never cancelled: cancelling one takes its queue's lock, on whatever thread
        // ended the body (an event loop among them, which must not wait). The body's end lets go of
        // the collector instead, so a body that ended is not kept until the deadline.
        java.util.concurrent.atomic.AtomicReference<BodyCollector> watched =
                new java.util.concurrent.atomic.AtomicReference<>(collector);
        collector.result.whenComplete((bytes, failure) -> watched.set(null));
        CompletableFuture.delayedExecutor(deadline.toMillis(), TimeUnit.MILLISECONDS).execute(() -> {
            BodyCollector late = watched.getAndSet(null);
            if (late != null) {
                late.tooSlow();
            }
        });
        return collector.result;
    }

    private void tooSlow() {
        Flow.Subscription current;
        synchronized (this) {
            current = subscription;
        }
        if (current != null) {
            current.cancel();
        }
        result.completeExceptionally(new TooSlow());
    }

    @Override
    public void onSubscribe(Flow.Subscription subscription) {
        synchronized (this) {
            this.subscription = subscription;
        }
        subscription.request(Long.MAX_VALUE);
    }

    @Override
    public void onNext(List<ByteBuffer> buffers) {
        if (result.isDone()) {
            return;
        }
        for (ByteBuffer buffer : buffers) {
            if (bytes.size() + buffer.remaining() > limit) {
                subscription.cancel();
                result.completeExceptionally(new TooLarge(limit));
                return;
            }
            byte[] chunk = new byte[buffer.remaining()];
            buffer.get(chunk);
            bytes.writeBytes(chunk);
        }
    }

    @Override
    public void onError(Throwable failure) {
        result.completeExceptionally(failure);
    }

    @Override
    public void onComplete() {
        result.complete(bytes.toByteArray());
    }
}
