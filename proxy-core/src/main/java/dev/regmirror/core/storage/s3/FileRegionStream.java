package dev.regmirror.core.storage.s3;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * {@code length} bytes of a file from an offset, read with positional reads: a request body the
 * SDK can open again when it retries.
 */
final class FileRegionStream extends InputStream {

    /** The region could not be opened. */
    static final class Unreadable extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Unreadable(IOException cause) {
            super(cause.toString(), cause);
        }
    }

    private final FileChannel channel;
    private long position;
    private final long end;

    FileRegionStream(Path file, long offset, long length) {
        try {
            this.channel = FileChannel.open(file, StandardOpenOption.READ);
        } catch (IOException e) {
            throw new Unreadable(e);
        }
        this.position = offset;
        this.end = offset + length;
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] buffer, int off, int len) throws IOException {
        if (position >= end) {
            return -1;
        }
        int wanted = (int) Math.min(len, end - position);
        int n = channel.read(ByteBuffer.wrap(buffer, off, wanted), position);
        if (n < 0) {
            throw new IOException("file ended at " + position + ", before " + end);
        }
        position += n;
        return n;
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
