package dev.regmirror.core.hosted;

import dev.regmirror.core.error.InvalidRequestException;
import dev.regmirror.core.error.RegistryErrorCode;
import io.micrometer.core.instrument.Counter;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Clock;
import java.util.OptionalLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A chunk appended to an upload's data file and its running hash; taken back out on abort (the
 * file truncated to where the chunk began, the hash as it was then).
 */
final class AppendedChunk implements ChunkWriter {

    private static final Logger LOG = LoggerFactory.getLogger(AppendedChunk.class);

    private final UploadState state;
    private final OptionalLong expected;
    private final Clock clock;
    private final Counter received;
    private final long start;
    private final MessageDigest hashAtStart;
    private final FileChannel channel;
    private long written;
    private boolean done;

    /** Opens the upload's file at its end; the caller has marked the upload as being written. */
    AppendedChunk(UploadState state, OptionalLong expected, Clock clock, Counter received) throws IOException {
        this.state = state;
        this.expected = expected;
        this.clock = clock;
        this.received = received;
        synchronized (state) {
            this.start = state.size;
            this.hashAtStart = state.hashSoFar();
        }
        this.channel = FileChannel.open(state.data, StandardOpenOption.WRITE);
        channel.position(start);
    }

    @Override
    public void write(ByteBuffer buffer) throws IOException {
        if (done) {
            throw new IOException("chunk of upload " + state.id + " already ended");
        }
        ByteBuffer forHash = buffer.duplicate();
        int n = buffer.remaining();
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
        synchronized (state) {
            state.sha256.update(forHash);
            state.size += n;
            state.lastActivity = clock.instant();
        }
        written += n;
        received.increment(n);
    }

    @Override
    public long written() {
        return written;
    }

    @Override
    public Upload complete() throws IOException {
        if (expected.isPresent() && written != expected.getAsLong()) {
            abort();
            throw new InvalidRequestException(RegistryErrorCode.BLOB_UPLOAD_INVALID, "the chunk of upload "
                    + state.id + " was " + written + " bytes, its Content-Range said " + expected.getAsLong());
        }
        done = true;
        channel.close();
        synchronized (state) {
            state.writing = false;
            state.lastActivity = clock.instant();
            return state.upload();
        }
    }

    @Override
    public void abort() {
        if (done) {
            return;
        }
        done = true;
        try {
            channel.truncate(start);
        } catch (IOException e) {
            LOG.debug("truncating upload {}: {}", state.id, e.toString());
        }
        try {
            channel.close();
        } catch (IOException e) {
            LOG.debug("closing upload {}: {}", state.id, e.toString());
        }
        synchronized (state) {
            state.size = start;
            state.sha256 = hashAtStart;
            state.writing = false;
        }
    }
}
