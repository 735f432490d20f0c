package dev.regmirror.server.http;

import dev.regmirror.core.mirror.BlobFill;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.LastHttpContent;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.util.concurrent.Executor;
import java.util.function.LongConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Streams one response from a blob that is still filling: sends what the fill has made readable
 * as a zero-copy file region of the ingest file (the bytes go from the page cache to the socket,
 * like a cached blob's), and sends on only after that write completed, so a slow client holds no
 * buffer at all. When the fill fails, the connection is closed before the declared
 * length, so the client sees an error and never a short body that looks complete. The client
 * going away stops this response only, never the fill.
 *
 * <p>A response may cover only part of the blob ({@code start} to {@code end}): a part that stops
 * before the last byte ends as soon as its bytes are written, before the fill is verified; one
 * that includes the last byte ends, like a whole blob, only once the fill is committed.
 */
final class FillFollower {

    private static final Logger LOG = LoggerFactory.getLogger(FillFollower.class);
    /** The most one region covers, so that a fast client's bytes are counted as they go. */
    private static final long SPAN = 8L * 1024 * 1024;

    private final ChannelHandlerContext ctx;
    private final BlobFill fill;
    private final FileChannel reader;
    private final long end;
    private final LongConsumer served;
    /** Null for zero-copy regions; else where chunks are read for a connection that takes buffers. */
    private final Executor bufferedReads;
    private long position;

    /**
     * Follows bytes {@code start} (inclusive) to {@code end} (exclusive; {@link Long#MAX_VALUE}
     * for a blob of unknown size, sent until the fill is done); {@code served} is told the size of
     * each chunk the client was sent. With {@code bufferedReads} (TLS, HTTP/2), what is readable
     * goes out as buffers read on that executor ({@link BufferedFileSender}) instead of regions.
     */
    FillFollower(ChannelHandlerContext ctx, BlobFill fill, FileChannel reader, long start,
                 long end, LongConsumer served, Executor bufferedReads) {
        this.ctx = ctx;
        this.bufferedReads = bufferedReads;
        this.served = served;
        this.fill = fill;
        this.reader = reader;
        this.position = start;
        this.end = end;
    }

    /** Sends what is readable, or waits for more; runs on the event loop. */
    void step() {
        if (!ctx.channel().isActive()) {
            finish();
            return;
        }
        BlobFill.Progress progress = fill.progress();
        if (progress.failed()) {
            LOG.debug("blob {} failed with a response at byte {}; closing the response", fill.digest().shortForm(),
                    position);
            finish();
            ctx.close();
            return;
        }
        long readable = Math.min(progress.readable(), end);
        if (position < readable) {
            long length = Math.min(SPAN, readable - position);
            if (bufferedReads != null) {
                BufferedFileSender.send(ctx, reader, position, length, bufferedReads, served)
                        .whenComplete((sent, failure) -> ctx.executor().execute(() -> {
                            if (failure == null) {
                                position += length;
                                step();
                            } else {
                                finish();
                                ctx.close();
                            }
                        }));
                return;
            }
            ctx.writeAndFlush(new FollowedFileRegion(reader, position, length)).addListener(written -> {
                if (written.isSuccess()) {
                    served.accept(length);
                    position += length;
                    step();
                } else {
                    finish();
                }
            });
            return;
        }
        if (position >= end || progress.ended()) {
            finish();
            ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
            return;
        }
        fill.whenReadableBeyond(position, () -> ctx.executor().execute(this::step));
    }

    private void finish() {
        try {
            reader.close();
        } catch (IOException e) {
            LOG.debug("closing reader of {}: {}", fill.digest().shortForm(), e.toString());
        }
    }
}
