package dev.regmirror.core.blob;

import java.io.IOException;
import java.nio.channels.FileChannel;

/**
 * A committed blob opened for reading, pinned against eviction until it is closed or
 * {@link #release released}; whoever holds it does one or the other.
 *
 * @param release unpins the blob; run once, by close or by whoever took over the channel
 */
public record OpenBlob(StoredBlob blob, FileChannel channel, Runnable release) implements AutoCloseable {

    public long size() {
        return blob.size();
    }

    /** Unpins the blob without closing the channel (for a consumer that closes the channel itself). */
    public void releasePin() {
        release.run();
    }

    @Override
    public void close() throws IOException {
        try {
            channel.close();
        } finally {
            release.run();
        }
    }
}
