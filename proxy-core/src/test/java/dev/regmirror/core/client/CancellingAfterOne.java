package dev.regmirror.core.client;

import io.netty.buffer.ByteBuf;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Flow;

/** Takes one buffer of a body, releases it and cancels; {@link #cancelled} completes then. */
final class CancellingAfterOne implements Flow.Subscriber<ByteBuf> {

    final CompletableFuture<Void> cancelled = new CompletableFuture<>();
    private Flow.Subscription subscription;

    @Override
    public void onSubscribe(Flow.Subscription subscription) {
        this.subscription = subscription;
        subscription.request(1);
    }

    @Override
    public void onNext(ByteBuf item) {
        item.release();
        subscription.cancel();
        cancelled.complete(null);
    }

    @Override
    public void onError(Throwable failure) {
        cancelled.completeExceptionally(failure);
    }

    @Override
    public void onComplete() {
        cancelled.completeExceptionally(new AssertionError("completed before it was cancelled"));
    }
}
