package dev.regmirror.core.client;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Reads a body one item at a time, asking for the next only after handling the last, and from
 * another thread, as a consumer does that writes each item to disk first.
 */
final class BodySubscriber implements Flow.Subscriber<List<ByteBuffer>> {

    final CompletableFuture<byte[]> result = new CompletableFuture<>();
    final AtomicInteger items = new AtomicInteger();
    /** How often an item came that had not been asked for: must stay 0. */
    final AtomicInteger unrequested = new AtomicInteger();
    private final AtomicInteger outstanding = new AtomicInteger();
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private Flow.Subscription subscription;

    static BodySubscriber readAll(BlobBody body) {
        BodySubscriber subscriber = new BodySubscriber();
        body.publisher().subscribe(subscriber);
        return subscriber;
    }

    @Override
    public void onSubscribe(Flow.Subscription subscription) {
        this.subscription = subscription;
        request();
    }

    @Override
    public void onNext(List<ByteBuffer> buffers) {
        if (outstanding.decrementAndGet() < 0) {
            unrequested.incrementAndGet();
        }
        items.incrementAndGet();
        for (ByteBuffer buffer : buffers) {
            byte[] chunk = new byte[buffer.remaining()];
            buffer.get(chunk);
            bytes.writeBytes(chunk);
        }
        CompletableFuture.runAsync(this::request);
    }

    private void request() {
        outstanding.incrementAndGet();
        subscription.request(1);
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
