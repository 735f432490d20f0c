package dev.regmirror.core.client;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpHeaders;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Flow;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * One request on a connection and the body of its answer, as a publisher of the buffers the
 * connection read: sends the request ({@link #start}, once added to the connection's pipeline),
 * completes {@code answer} with the response head, then reads only while its subscriber wants more or
 * little is waiting ({@link #READ_AHEAD}), so the upstream waits when the disk does. Everything runs
 * on the connection's event loop; {@code request} and {@code cancel} may come from any thread and are
 * passed to it.
 *
 * <p>Each buffer delivered is the subscriber's to release, once, including any that arrives after it
 * cancelled; whatever was read and not delivered is released here when the body ends, fails or is
 * cancelled. A response read to its end on a keep-alive connection leaves the pipeline and hands the
 * connection to {@code reuse}; any other end closes it. A connection that breaks before the first byte
 * of an answer goes to {@code stale} instead of failing, when given (a reused one the server closed).
 */
final class BodyStream extends ChannelInboundHandlerAdapter implements Flow.Publisher<ByteBuf>, Flow.Subscription {

    /** Bytes read ahead of the subscriber's demand, delivered as one buffer when it asks. */
    static final int READ_AHEAD = 256 * 1024;

    private final FullHttpRequest request;
    private final URI uri;
    private final Duration readTimeout;
    private final CompletableFuture<UpstreamResponse<Flow.Publisher<ByteBuf>>> answer;
    private final Consumer<Channel> reuse;
    private final Optional<Runnable> stale;
    private final boolean head;
    private final ArrayDeque<ByteBuf> queue = new ArrayDeque<>();
    private ChannelHandlerContext ctx;
    private ScheduledFuture<?> headTimer;
    private Flow.Subscriber<? super ByteBuf> subscriber;
    private long queuedBytes;
    private long demand;
    private boolean headSeen;
    private boolean anyRead;
    private boolean reusable;
    private boolean handedBack;
    private boolean ended;
    private boolean terminated;
    private boolean draining;
    private Throwable failure;
    /** The response head read, until the answer is completed with it. */
    private UpstreamResponse<Flow.Publisher<ByteBuf>> pending;

    /**
     * @param reuse takes the connection back once the response was read to its end with keep-alive
     * @param stale retries elsewhere when the connection breaks before any byte of an answer
     */
    BodyStream(FullHttpRequest request, URI uri, Duration readTimeout,
               CompletableFuture<UpstreamResponse<Flow.Publisher<ByteBuf>>> answer, Consumer<Channel> reuse,
               Optional<Runnable> stale) {
        this.request = request;
        this.uri = uri;
        this.readTimeout = readTimeout;
        this.answer = answer;
        this.reuse = reuse;
        this.stale = stale;
        this.head = HttpMethod.HEAD.equals(request.method());
    }

    /** Lets go of the request when the connection never came up. */
    void release() {
        ReferenceCountUtil.release(request);
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    /** Sends the request; on the event loop, once this handler is in the connection's pipeline. */
    void start() {
        headTimer = ctx.executor().schedule(() -> fail(new HttpTimeoutException("no response within "
                + Failures.seconds(readTimeout))), readTimeout.toNanos(), TimeUnit.NANOSECONDS);
        ctx.writeAndFlush(request).addListener(sent -> {
            if (!sent.isSuccess()) {
                fail(sent.cause());
            }
        });
        ctx.read();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        anyRead = true;
        if (ended) {
            // more than the one answer asked for: the connection is out of step
            reusable = false;
        }
        if (terminated || failure != null || ended) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof HttpResponse head) {
            if (head.decoderResult().isFailure()) {
                ReferenceCountUtil.release(msg);
                fail(new IOException("malformed response head: " + head.decoderResult().cause().getMessage(),
                        head.decoderResult().cause()));
                return;
            }
            headSeen = true;
            reusable = reusable(head);
            headTimer.cancel(false);
            // answered at the end of this read, once an empty body has left the connection free
            pending = new UpstreamResponse<>(head.status().code(), headers(head), uri, this);
        }
        if (msg instanceof HttpContent content) {
            if (content.decoderResult().isFailure()) {
                content.release();
                fail(new IOException("malformed response body: " + content.decoderResult().cause().getMessage(),
                        content.decoderResult().cause()));
                return;
            }
            ByteBuf bytes = content.content();
            if (bytes.isReadable()) {
                queue.add(bytes);
                queuedBytes += bytes.readableBytes();
            } else {
                bytes.release();
            }
            if (content instanceof LastHttpContent) {
                ended = true;
                if (subscriber == null && queue.isEmpty()) {
                    // an empty body (a HEAD's, a redirect's): the connection is free before anyone
                    // subscribes, who then gets the end alone
                    finish();
                }
                answerNow();
            }
            drain();
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        answerNow();
        readIfWanted();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (!ended) {
            fail(new IOException(headSeen ? "the upstream closed the connection before the body's end"
                    : "the upstream closed the connection without answering"));
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        fail(cause);
    }

    @Override
    public void subscribe(Flow.Subscriber<? super ByteBuf> subscriber) {
        ctx.executor().execute(() -> {
            if (this.subscriber != null) {
                subscriber.onSubscribe(new CancellingSubscriber.Nothing());
                subscriber.onError(new IllegalStateException("the body of " + uri + " was subscribed to twice"));
                return;
            }
            this.subscriber = subscriber;
            subscriber.onSubscribe(this);
            drain();
        });
    }

    @Override
    public void request(long n) {
        onLoop(() -> {
            if (n <= 0) {
                fail(new IllegalArgumentException("request(" + n + ")"));
                return;
            }
            demand = demand + n < 0 ? Long.MAX_VALUE : demand + n;
            drain();
        });
    }

    @Override
    public void cancel() {
        onLoop(() -> {
            if (terminated || handedBack) {
                return;
            }
            terminated = true;
            releaseQueue();
            finish();
        });
    }

    private void onLoop(Runnable work) {
        if (ctx.executor().inEventLoop()) {
            work.run();
            return;
        }
        try {
            ctx.executor().execute(work);
        } catch (RejectedExecutionException stopping) {
            // the client's event loops are shut down with the process; nothing is left to read
        }
    }

    /** Delivers what is queued while there is demand (all of it as one buffer), then the end if it came. */
    private void drain() {
        if (subscriber == null || terminated || draining) {
            return;
        }
        draining = true;
        try {
            while (demand > 0 && !queue.isEmpty() && !terminated) {
                ByteBuf item = queue.size() == 1 ? queue.poll() : combined();
                queuedBytes = 0;
                demand--;
                subscriber.onNext(item);
            }
            if (!terminated && queue.isEmpty() && failure != null) {
                terminated = true;
                subscriber.onError(failure);
            } else if (!terminated && queue.isEmpty() && ended) {
                terminated = true;
                finish();
                subscriber.onComplete();
            }
        } finally {
            draining = false;
        }
        readIfWanted();
    }

    private ByteBuf combined() {
        CompositeByteBuf all = ctx.alloc().compositeDirectBuffer(queue.size());
        while (!queue.isEmpty()) {
            all.addComponent(true, queue.poll());
        }
        return all;
    }

    /** Reads for the head, then only for a subscriber with little waiting for it. */
    private void readIfWanted() {
        if (terminated || ended || failure != null || handedBack || !ctx.channel().isActive()) {
            return;
        }
        if (!headSeen || (subscriber != null && queuedBytes < READ_AHEAD)) {
            ctx.read();
        }
    }

    /** Ends the body in failure: the answer if none came yet, else the subscriber's error. */
    private void fail(Throwable cause) {
        if (terminated || failure != null || handedBack) {
            return;
        }
        if (headTimer != null) {
            headTimer.cancel(false);
        }
        failure = cause;
        releaseQueue();
        ctx.close();
        answerNow();
        if (!anyRead && stale.isPresent() && !(cause instanceof HttpTimeoutException)) {
            terminated = true;
            stale.get().run();
            return;
        }
        if (!answer.isDone()) {
            answer.completeExceptionally(cause);
            terminated = true;
            return;
        }
        drain();
    }

    /** Completes the answer with the head read, if not done yet. */
    private void answerNow() {
        if (pending != null) {
            UpstreamResponse<Flow.Publisher<ByteBuf>> response = pending;
            pending = null;
            answer.complete(response);
        }
    }

    /**
     * Lets go of the connection at the body's end or cancel: back to {@code reuse} when the whole
     * answer was read, nothing failed and the connection may be kept; else closed.
     */
    private void finish() {
        if (handedBack) {
            return;
        }
        handedBack = true;
        if (ended && reusable && failure == null && ctx.channel().isActive()) {
            ctx.pipeline().remove(this);
            reuse.accept(ctx.channel());
        } else {
            ctx.close();
        }
    }

    /**
     * Whether the connection may carry another request after this answer: keep-alive, and a body
     * whose end is known without the connection's (a length, chunks, or none at all).
     */
    private boolean reusable(HttpResponse response) {
        int status = response.status().code();
        boolean bodiless = head || status == HttpResponseStatus.NO_CONTENT.code()
                || status == HttpResponseStatus.NOT_MODIFIED.code();
        return HttpUtil.isKeepAlive(response) && (bodiless || HttpUtil.isContentLengthSet(response)
                || HttpUtil.isTransferEncodingChunked(response));
    }

    private void releaseQueue() {
        while (!queue.isEmpty()) {
            queue.poll().release();
        }
        queuedBytes = 0;
    }

    /** The head's headers as the JDK client's type, which the rest of the client reads. */
    private static HttpHeaders headers(HttpResponse head) {
        Map<String, List<String>> all = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        for (Map.Entry<String, String> header : head.headers()) {
            all.computeIfAbsent(header.getKey(), name -> new ArrayList<>()).add(header.getValue());
        }
        return HttpHeaders.of(all, (name, value) -> true);
    }
}
