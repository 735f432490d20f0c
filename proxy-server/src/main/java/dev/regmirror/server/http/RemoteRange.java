package dev.regmirror.server.http;

import dev.regmirror.core.blob.OpenBlob;
import io.netty.buffer.ByteBuf;
import java.io.IOException;
import java.io.InputStream;

/**
 * One range of a blob in a remote store, read in order by {@link BufferedFileSender}: the stream
 * is opened at the first read (on the disk executor, as every read) and closed by the caller.
 */
final class RemoteRange implements BufferedFileSender.ChunkReader {

    private final OpenBlob.RangeReader reader;
    private final long first;
    private final long last;
    private InputStream in;
    private long next;
    private boolean closed;

    RemoteRange(OpenBlob.RangeReader reader, long first, long count) {
        this.reader = reader;
        this.first = first;
        this.last = first + count - 1;
        this.next = first;
    }

    @Override
    public synchronized int read(ByteBuf buffer, long position, int length) throws IOException {
        if (closed) {
            throw new IOException("the range was closed");
        }
        if (position != next) {
            throw new IOException("read at " + position + ", expected " + next + ": remote ranges are read in order");
        }
        if (in == null) {
            in = reader.open(first, last);
        }
        int n = buffer.writeBytes(in, length);
        if (n > 0) {
            next += n;
        }
        return n;
    }

    /** Closes the stream, dropping its connection if it was not read to the end. */
    synchronized void close() {
        closed = true;
        if (in != null) {
            try {
                in.close();
            } catch (IOException e) {
                // a connection dropped early: nothing to keep
            }
        }
    }
}
