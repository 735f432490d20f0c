package dev.regmirror.server.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultHttpContent;
import java.io.EOFException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.LongConsumer;

/**
 * Sends a span of a file as buffers, for connections that cannot take a zero-copy file region
 * (TLS encrypts in user space; an HTTP/2 stream sends frames), or of a blob in a remote store,
 * which no connection can take zero-copy. Each chunk is read on the disk
 * executor, never on the event loop; the next is read while the previous is written, and none
 * after that until that write completed, so a response holds at most two chunks whatever the
 * client's speed: a slow client (or a slow HTTP/2 stream) holds its own two chunks, nothing more.
 */
final class BufferedFileSender {

    /** One read and one write; large enough that TLS records stay full and hand-offs rare. */
    static final int CHUNK = 256 * 1024;

    /** Reads {@code length} bytes from {@code position} of the content into the buffer, or fewer at its end (-1). */
    @FunctionalInterface
    interface ChunkReader {
        int read(ByteBuf buffer, long position, int length) throws IOException;
    }

    private final ChannelHandlerContext ctx;
    private final ChunkReader file;
    private final long end;
    private final Executor diskExecutor;
    private final LongConsumer sent;
    private final CompletableFuture<Void> done = new CompletableFuture<>();
    private long position;

    private BufferedFileSender(ChannelHandlerContext ctx, ChunkReader file, long position, long count,
                               Executor diskExecutor, LongConsumer sent) {
        this.ctx = ctx;
        this.file = file;
        this.position = position;
        this.end = position + count;
        this.diskExecutor = diskExecutor;
        this.sent = sent;
    }

    /**
     * Sends {@code count} bytes of {@code file} from {@code position} as HTTP content (not the last);
     * completes once the last chunk was written, or fails with the first read or write failure.
     * The file is the caller's to close, after the future completed.
     *
     * @param sent told the size of each chunk once the client took it
     */
    static CompletableFuture<Void> send(ChannelHandlerContext ctx, FileChannel file, long position, long count,
                                        Executor diskExecutor, LongConsumer sent) {
        return send(ctx, (ChunkReader) (buffer, at, length) -> buffer.writeBytes(file, at, length), position, count,
                diskExecutor, sent);
    }

    /**
     * Sends {@code count} bytes of the content from {@code position}, as {@link #send(ChannelHandlerContext,
     * FileChannel, long, long, Executor, LongConsumer)} does a file's; chunks are read in order.
     */
    static CompletableFuture<Void> send(ChannelHandlerContext ctx, ChunkReader file, long position, long count,
                                        Executor diskExecutor, LongConsumer sent) {
        BufferedFileSender sender = new BufferedFileSender(ctx, file, position, count, diskExecutor, sent);
        if (count <= 0) {
            sender.done.complete(null);
        } else {
            sender.read().whenComplete(sender::readDone);
        }
        return sender.done;
    }

    /** Reads the chunk at {@link #position} on the disk executor. */
    private CompletableFuture<ByteBuf> read() {
        long from = position;
        int length = (int) Math.min(CHUNK, end - from);
        position += length;
        CompletableFuture<ByteBuf> chunk = new CompletableFuture<>();
        try {
            diskExecutor.execute(() -> {
                ByteBuf buffer = ctx.alloc().directBuffer(length);
                try {
                    int read = 0;
                    while (read < length) {
                        int n = file.read(buffer, from + read, length - read);
                        if (n < 0) {
                            throw new EOFException("the file ends at " + (from + read) + ", before " + (from + length));
                        }
                        read += n;
                    }
                    chunk.complete(buffer);
                } catch (IOException | RuntimeException e) {
                    buffer.release();
                    chunk.completeExceptionally(e);
                }
            });
        } catch (RuntimeException rejected) {
            chunk.completeExceptionally(rejected);
        }
        return chunk;
    }

    /** A chunk is in memory (or could not be read): hand it to the event loop. */
    private void readDone(ByteBuf chunk, Throwable failure) {
        if (failure != null) {
            done.completeExceptionally(failure);
            return;
        }
        try {
            ctx.executor().execute(() -> write(chunk));
        } catch (RuntimeException rejected) { // the event loop shut down
            chunk.release();
            done.completeExceptionally(rejected);
        }
    }

    /** On the event loop: writes the chunk and reads the next meanwhile. */
    private void write(ByteBuf chunk) {
        if (done.isDone() || !ctx.channel().isActive()) {
            chunk.release();
            done.completeExceptionally(new IOException("the connection closed"));
            return;
        }
        int length = chunk.readableBytes();
        CompletableFuture<ByteBuf> next = position < end ? read() : null;
        ctx.writeAndFlush(new DefaultHttpContent(chunk)).addListener(written -> {
            if (!written.isSuccess()) {
                done.completeExceptionally(written.cause());
                if (next != null) {
                    next.thenAccept(ByteBuf::release);
                }
                return;
            }
            sent.accept(length);
            if (next == null) {
                done.complete(null);
            } else {
                next.whenComplete(this::readDone);
            }
        });
    }
}
