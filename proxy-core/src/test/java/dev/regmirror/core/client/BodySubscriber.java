package dev.regmirror.core.client;

import io.netty.buffer.ByteBuf;
import java.io.ByteArrayOutputStream;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Reads a body one item at a time, asking for the next only after handling the last, and from
 * another thread, as a consumer does that writes each item to disk first; releases every buffer.
 */
final class BodySubscriber implements Flow.Subscriber<ByteBuf> {

    final CompletableFuture<byte[]> result = new CompletableFuture<>();
    final AtomicInteger items = new AtomicInteger();
    /** How often an item came that had not been asked for: must stay 0. */
    final AtomicInteger unrequested = new AtomicInteger();
    /** How many items were direct buffers. */
    final AtomicInteger direct = new AtomicInteger();
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
    public void onNext(ByteBuf buffer) {
        if (outstanding.decrementAndGet() < 0) {
            unrequested.incrementAndGet();
        }
        items.incrementAndGet();
        if (buffer.isDirect()) {
            direct.incrementAndGet();
        }
        byte[] chunk = new byte[buffer.readableBytes()];
        buffer.readBytes(chunk);
        buffer.release();
        synchronized (bytes) {
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
        synchronized (bytes) {
            result.complete(bytes.toByteArray());
        }
    }
}
