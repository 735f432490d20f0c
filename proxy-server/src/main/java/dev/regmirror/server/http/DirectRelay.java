package dev.regmirror.server.http;

import dev.regmirror.core.reference.Digest;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.LastHttpContent;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.Flow;
import java.util.function.LongConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Streams an upstream body to one client without caching it (the cache cannot store it): hashes
 * each chunk on the disk executor as it arrives (never on an event loop), asks for the next only
 * once the previous went out, and holds the last chunk back until size and digest are verified, so
 * a body that fails verification is cut off before its declared length, never delivered whole. The
 * upstream's buffers go out as they are; each is released by the write or here, exactly once.
 *
 * <p>A response may cover only part of the blob ({@code first} to {@code end}, exclusive): every
 * byte is still read and hashed, only the part's bytes go out. As for a blob being filled, a part
 * that stops before the last byte ends as soon as its bytes are written (the rest of the body is
 * not read); one that includes the last byte ends, like a whole blob, once the body verified.
 */
final class DirectRelay implements Flow.Subscriber<ByteBuf> {

    private static final Logger LOG = LoggerFactory.getLogger(DirectRelay.class);

    private final ChannelHandlerContext ctx;
    private final Digest digest;
    private final long expectedSize;
    private final MessageDigest hasher;
    private final LongConsumer served;
    private final Executor diskExecutor;
    private final long first;
    private final long end;
    /** Bytes of the body that reached the event loop so far (sent, held or skipped). */
    private long position;
    private boolean ended;
    private Flow.Subscription subscription;
    private long seen;
    private ByteBuf held;
    /** Hashing of this body, in signal order: completion must wait for the last chunk's hash. */
    private CompletableFuture<Void> tail = CompletableFuture.completedFuture(null);

    /**
     * @param served       told the size of each chunk the client was sent
     * @param diskExecutor where the chunks are hashed
     */
    DirectRelay(ChannelHandlerContext ctx, Digest digest, long expectedSize, LongConsumer served,
                Executor diskExecutor) {
        this(ctx, digest, expectedSize, 0, Long.MAX_VALUE, served, diskExecutor);
    }

    /**
     * Relays bytes {@code first} (inclusive) to {@code end} (exclusive) of the body: a part of a blob
     * of known size, {@code end} at most that size.
     */
    DirectRelay(ChannelHandlerContext ctx, Digest digest, long expectedSize, long first, long end, LongConsumer served,
                Executor diskExecutor) {
        this.first = first;
        this.end = end;
        this.ctx = ctx;
        this.served = served;
        this.digest = digest;
        this.expectedSize = expectedSize;
        this.hasher = digest.newHasher();
        this.diskExecutor = diskExecutor;
    }

    @Override
    public void onSubscribe(Flow.Subscription subscription) {
        this.subscription = subscription;
        subscription.request(1);
    }

    /** Hashes on the disk executor, then writes on the event loop. */
    @Override
    public void onNext(ByteBuf chunk) {
        inOrder(() -> {
            for (ByteBuffer buffer : chunk.nioBuffers()) {
                seen += buffer.remaining();
                hasher.update(buffer);
            }
            ctx.executor().execute(() -> forward(chunk));
        }, chunk::release);
    }

    /** Runs {@code work} after the work before it; {@code ifSkipped} instead if it cannot run. */
    private synchronized void inOrder(Runnable work, Runnable ifSkipped) {
        tail = tail.thenRunAsync(work, diskExecutor).exceptionally(failure -> {
            ifSkipped.run();
            LOG.warn("uncached blob {}: {}", digest.shortForm(), failure.toString());
            subscription.cancel();
            ctx.channel().close();
            return null;
        });
    }

    private void forward(ByteBuf whole) {
        if (ended) {
            whole.release();
            return;
        }
        if (!ctx.channel().isActive()) {
            whole.release();
            abandon();
            return;
        }
        long at = position;
        position += whole.readableBytes();
        long from = Math.max(first, at);
        long to = Math.min(end, position);
        if (from >= to) {
            // Before the part (or an empty chunk): read on.
            whole.release();
            subscription.request(1);
            return;
        }
        ByteBuf chunk = whole;
        if (from > at || to < position) {
            chunk = whole.retainedSlice(whole.readerIndex() + (int) (from - at), (int) (to - from));
            whole.release();
        }
        if (to == end && end < expectedSize) {
            endPartEarly(chunk);
            return;
        }
        ByteBuf previous = held;
        held = chunk;
        if (previous == null) {
            subscription.request(1);
            return;
        }
        int size = previous.readableBytes();
        ctx.writeAndFlush(new DefaultHttpContent(previous)).addListener(written -> {
            if (written.isSuccess()) {
                served.accept(size);
                subscription.request(1);
            } else {
                abandon();
            }
        });
    }

    /** The part ends before the blob's last byte: its bytes go out now, and the rest is not read. */
    private void endPartEarly(ByteBuf last) {
        ended = true;
        subscription.cancel();
        if (held != null) {
            int size = held.readableBytes();
            ctx.write(new DefaultHttpContent(held)).addListener(written -> {
                if (written.isSuccess()) {
                    served.accept(size);
                }
            });
            held = null;
        }
        int size = last.readableBytes();
        ctx.write(new DefaultHttpContent(last)).addListener(written -> {
            if (written.isSuccess()) {
                served.accept(size);
            }
        });
        ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
    }

    @Override
    public void onError(Throwable failure) {
        inOrder(() -> ctx.executor().execute(() -> {
            if (ended) {
                return;
            }
            LOG.warn("uncached blob {} broke off after {} bytes: {}", digest.shortForm(), seen, failure.toString());
            releaseHeld();
            ctx.close();
        }), () -> { });
    }

    @Override
    public void onComplete() {
        inOrder(this::complete, () -> { });
    }

    /** On the disk executor, after the last chunk's hash. */
    private void complete() {
        long total = seen;
        boolean verified = digest.matches(hasher) && (expectedSize < 0 || total == expectedSize);
        ctx.executor().execute(() -> {
            if (ended) {
                return;
            }
            if (!verified) {
                LOG.warn("uncached blob {} failed verification after {} bytes; cutting the response off",
                        digest.shortForm(), total);
                releaseHeld();
                ctx.close();
                return;
            }
            if (held != null) {
                int size = held.readableBytes();
                ctx.write(new DefaultHttpContent(held)).addListener(written -> {
                    if (written.isSuccess()) {
                        served.accept(size);
                    }
                });
                held = null;
            }
            ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
        });
    }

    private void abandon() {
        subscription.cancel();
        releaseHeld();
    }

    private void releaseHeld() {
        if (held != null) {
            held.release();
            held = null;
        }
    }
}
