package dev.regmirror.core.client;

import io.netty.buffer.ByteBuf;
import java.util.concurrent.Flow;

/**
 * Takes an upstream body nobody will read and cancels it at once, so its connection is let go;
 * a buffer that was already on its way is released.
 */
public final class CancellingSubscriber implements Flow.Subscriber<ByteBuf> {

    @Override
    public void onSubscribe(Flow.Subscription subscription) {
        subscription.cancel();
    }

    @Override
    public void onNext(ByteBuf item) {
        item.release();
    }

    @Override
    public void onError(Throwable failure) {
    }

    @Override
    public void onComplete() {
    }

    /** The subscription of a body that has nothing to give. */
    static final class Nothing implements Flow.Subscription {

        @Override
        public void request(long n) {
        }

        @Override
        public void cancel() {
        }
    }
}
