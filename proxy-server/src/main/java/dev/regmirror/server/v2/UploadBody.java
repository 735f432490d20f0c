package dev.regmirror.server.v2;

import dev.regmirror.core.error.InvalidRequestException;
import dev.regmirror.core.error.RegistryErrorCode;
import dev.regmirror.core.hosted.ChunkWriter;
import dev.regmirror.core.hosted.UploadId;
import dev.regmirror.core.mirror.Futures;
import dev.regmirror.server.http.ErrorResponder;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AttributeKey;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;

/**
 * The body of one push on its way to an upload's file, on the channel's event loop: pieces that
 * come before the {@link Plan} is ready wait; then they go to the disk executor one batch at a
 * time, and the channel is asked for one more read only once the disk has taken the last batch
 * (the channel's auto-read is off meanwhile). At the body's end the plan's {@link Ending} gives the
 * answer. A refusal or failure is answered at once, the chunk taken back out, and the connection
 * closes after the answer; what still comes of the body is dropped. Kept in a channel attribute
 * while it lasts.
 */
final class UploadBody {

    private static final AttributeKey<UploadBody> BODY = AttributeKey.valueOf(UploadBody.class, "body");

    /** On the disk executor, once the body is in: the answer. */
    @FunctionalInterface
    interface Ending {
        FullHttpResponse end() throws IOException;
    }

    /**
     * What a push does with its body: write it to a chunk of the upload ({@code writer}), or let it
     * go (null: a mount or start takes none); then end, giving the answer.
     */
    record Plan(ChunkWriter writer, Ending ending) {

        static Plan answer(FullHttpResponse response) {
            return new Plan(null, () -> response);
        }
    }

    private final ChannelHandlerContext ctx;
    private final V2Request.WithBody request;
    private final Executor diskExecutor;
    private final ErrorResponder errors;
    private final ArrayDeque<HttpContent> queued = new ArrayDeque<>();
    private Plan plan;
    private boolean writing;
    private boolean lastSeen;
    private boolean failed;
    private boolean over;

    UploadBody(ChannelHandlerContext ctx, V2Request.WithBody request, Executor diskExecutor, ErrorResponder errors) {
        this.ctx = ctx;
        this.request = request;
        this.diskExecutor = diskExecutor;
        this.errors = errors;
    }

    void take(HttpContent content) {
        if (content instanceof LastHttpContent) {
            lastSeen = true;
        }
        if (failed) {
            content.release();
            if (lastSeen) {
                done();
            }
            return;
        }
        queued.add(content);
        drain();
    }

    void ready(Plan ready) {
        if (failed) {
            if (ready.writer() != null) {
                diskExecutor.execute(ready.writer()::abort);
            }
            return;
        }
        plan = ready;
        drain();
    }

    /** Writes what came, one batch at a time; asks for more once the disk has taken it. */
    private void drain() {
        if (plan == null || writing || over) {
            return;
        }
        if (queued.isEmpty()) {
            if (lastSeen) {
                end();
            } else {
                ctx.read();
            }
            return;
        }
        List<HttpContent> batch = new ArrayList<>(queued);
        queued.clear();
        writing = true;
        ChunkWriter writer = plan.writer();
        Futures.supplyOn(diskExecutor, () -> {
            try {
                if (writer != null) {
                    for (HttpContent content : batch) {
                        ByteBuf bytes = content.content();
                        for (ByteBuffer buffer : bytes.nioBuffers(bytes.readerIndex(), bytes.readableBytes())) {
                            writer.write(buffer);
                        }
                    }
                }
                return batch.size();
            } finally {
                batch.forEach(HttpContent::release);
            }
        }).whenComplete((written, failure) -> ctx.executor().execute(() -> {
            writing = false;
            if (failed) {
                abortWriter(); // failed meanwhile (the client left): the write is over now
            } else if (failure != null) {
                fail(failure);
            } else {
                drain();
            }
        }));
    }

    private void end() {
        over = true;
        Futures.supplyOn(diskExecutor, () -> plan.ending().end()).whenComplete((response, failure) ->
                ctx.executor().execute(() -> {
                    done();
                    if (failure != null) {
                        errors.send(ctx, request.method(), request.keepAlive(), withLocation(failure));
                    } else {
                        ctx.writeAndFlush(response);
                    }
                }));
    }

    /**
     * Refused, or failed while writing: answered at once, the chunk taken back out, and what
     * still comes of the body dropped with the connection, which closes after the answer.
     */
    void fail(Throwable failure) {
        if (failed || over) {
            return;
        }
        abandon();
        errors.send(ctx, request.method(), false, withLocation(failure));
        if (lastSeen) {
            done();
        } else {
            ctx.read();
        }
    }

    /** Gives the body up: the chunk is taken back out and what came of the body is dropped. */
    void abandon() {
        if (failed || over) {
            return;
        }
        failed = true;
        if (!writing) {
            abortWriter();
        }
        HttpContent content;
        while ((content = queued.poll()) != null) {
            content.release();
        }
    }

    /** Takes the chunk back out of the upload, on the disk executor (never beside a write of it). */
    private void abortWriter() {
        if (plan != null && plan.writer() != null) {
            diskExecutor.execute(plan.writer()::abort);
        }
    }

    /** The body is all in: the channel reads on its own again, for the next request. */
    private void done() {
        if (ctx.channel().attr(BODY).compareAndSet(this, null)) {
            ctx.channel().config().setAutoRead(true);
        }
    }

    /** A 416 of an upload carries its {@code Location}, as the spec asks. */
    private Throwable withLocation(Throwable failure) {
        Throwable cause = Futures.unwrap(failure);
        UploadId id = request instanceof V2Request.UploadChunk chunk ? chunk.id()
                : request instanceof V2Request.UploadFinish finish ? finish.id() : null;
        if (id != null && cause instanceof InvalidRequestException invalid
                && invalid.code() == RegistryErrorCode.RANGE_INVALID) {
            Map<String, String> headers = new HashMap<>(invalid.headers());
            headers.put(HttpHeaderNames.LOCATION.toString(), written(request).url("blobs/uploads/" + id));
            return new InvalidRequestException(invalid.code(), invalid.getMessage(), invalid.detail(), headers);
        }
        return cause;
    }

    /** Starts taking a push's body on this channel: reading stops until the plan is ready. */
    static UploadBody begin(ChannelHandlerContext ctx, V2Request.WithBody request, Executor diskExecutor,
                            ErrorResponder errors) {
        ctx.channel().config().setAutoRead(false);
        UploadBody body = new UploadBody(ctx, request, diskExecutor, errors);
        ctx.channel().attr(BODY).set(body);
        return body;
    }

    /** The body being taken on this channel, if any. */
    static UploadBody current(Channel channel) {
        return channel.attr(BODY).get();
    }

    /** The channel closed: the body, if one was being taken, is given up (nobody to answer). */
    static void closed(Channel channel) {
        UploadBody body = channel.attr(BODY).getAndSet(null);
        if (body != null) {
            body.abandon();
        }
    }

    /** The repository as the push wrote it, for the URLs an answer gives back. */
    private static V2Request.Written written(V2Request.WithBody request) {
        if (request instanceof V2Request.UploadStart start) {
            return start.written();
        }
        if (request instanceof V2Request.UploadChunk chunk) {
            return chunk.written();
        }
        return ((V2Request.UploadFinish) request).written();
    }
}
