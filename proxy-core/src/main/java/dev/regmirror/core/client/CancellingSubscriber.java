package dev.regmirror.core.client;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.Flow;

/** Takes an upstream body nobody will read and cancels it at once, so its connection is let go. */
public final class CancellingSubscriber implements Flow.Subscriber<List<ByteBuffer>> {

    @Override
    public void onSubscribe(Flow.Subscription subscription) {
        subscription.cancel();
    }

    @Override
    public void onNext(List<ByteBuffer> item) {
    }

    @Override
    public void onError(Throwable failure) {
    }

    @Override
    public void onComplete() {
    }
}
