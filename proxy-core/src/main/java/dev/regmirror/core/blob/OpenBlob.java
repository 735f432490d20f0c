package dev.regmirror.core.blob;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.util.Objects;
import java.util.Optional;

/**
 * A committed blob opened for reading, pinned against eviction until it is closed or
 * {@link #release released}; whoever holds it does one or the other. Its bytes are a local file
 * (sent zero-copy where the connection allows) or in a remote store, read by range.
 *
 * @param release unpins the blob; run once, by close or by whoever took over the content
 */
public record OpenBlob(StoredBlob blob, Content content, Runnable release) implements AutoCloseable {

    /** Where the bytes are. */
    public sealed interface Content permits LocalFile, Remote {
    }

    /** A local file, open for reading. */
    public record LocalFile(FileChannel channel) implements Content {
        public LocalFile {
            Objects.requireNonNull(channel, "channel");
        }
    }

    /**
     * In a remote store: each read opens a stream of a range.
     *
     * @param redirect where a client may fetch the bytes itself, when the store offers it (a
     *                 presigned URL of short life, made on demand); empty to always stream
     */
    public record Remote(RangeReader reader, Optional<java.util.function.Supplier<java.net.URI>> redirect)
            implements Content {
        public Remote {
            Objects.requireNonNull(reader, "reader");
            Objects.requireNonNull(redirect, "redirect");
        }

        /** Content that is always streamed. */
        public Remote(RangeReader reader) {
            this(reader, Optional.empty());
        }
    }

    /** Opens bytes {@code first} to {@code last} (inclusive) of a remote blob; blocks on the network. */
    @FunctionalInterface
    public interface RangeReader {
        InputStream open(long first, long last) throws IOException;
    }

    public OpenBlob {
        Objects.requireNonNull(blob, "blob");
        Objects.requireNonNull(content, "content");
        Objects.requireNonNull(release, "release");
    }

    /** A blob in a local file. */
    public OpenBlob(StoredBlob blob, FileChannel channel, Runnable release) {
        this(blob, new LocalFile(channel), release);
    }

    public long size() {
        return blob.size();
    }

    /** The local file, empty for a blob in a remote store. */
    public Optional<FileChannel> file() {
        return content instanceof LocalFile local ? Optional.of(local.channel()) : Optional.empty();
    }

    /** Unpins the blob without closing the file (for a consumer that closes the file itself). */
    public void releasePin() {
        release.run();
    }

    @Override
    public void close() throws IOException {
        try {
            if (content instanceof LocalFile local) {
                local.channel().close();
            }
        } finally {
            release.run();
        }
    }
}
