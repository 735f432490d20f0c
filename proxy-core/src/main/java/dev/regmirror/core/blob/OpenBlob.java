package dev.regmirror.core.blob;

import java.io.IOException;
import java.nio.channels.FileChannel;

/**
 * A committed blob opened for reading. The channel stays readable even if the blob is evicted
 * meanwhile; whoever holds it closes it.
 */
public record OpenBlob(StoredBlob blob, FileChannel channel) implements AutoCloseable {

    public long size() {
        return blob.size();
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
