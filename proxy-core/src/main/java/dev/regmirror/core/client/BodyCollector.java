package dev.regmirror.core.client;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Flow;

/**
 * Reads a small body (a manifest, an error, a token) into bytes, cancelling once it passes a limit:
 * the result then fails with {@link TooLarge}.
 */
final class BodyCollector implements Flow.Subscriber<List<ByteBuffer>> {

    /** The body went past the limit; nothing more was read. */
    static final class TooLarge extends RuntimeException {

        TooLarge(int limit) {
            super("larger than " + limit + " bytes", null, false, false);
        }
    }

    private final int limit;
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final CompletableFuture<byte[]> result = new CompletableFuture<>();
    private Flow.Subscription subscription;

    private BodyCollector(int limit) {
        this.limit = limit;
    }

    /** The whole body, or a failure with {@link TooLarge} past {@code limit} bytes. */
    static CompletableFuture<byte[]> collect(Flow.Publisher<List<ByteBuffer>> body, int limit) {
        BodyCollector collector = new BodyCollector(limit);
        body.subscribe(collector);
        return collector.result;
    }

    /** Reads and drops a body we do not need (a redirect's, a 401's), so the connection can be reused. */
    static void discard(Flow.Publisher<List<ByteBuffer>> body) {
        collect(body, UpstreamErrors.MAX_BODY);
    }

    @Override
    public void onSubscribe(Flow.Subscription subscription) {
        this.subscription = subscription;
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
