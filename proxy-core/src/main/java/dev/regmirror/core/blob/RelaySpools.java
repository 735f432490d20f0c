package dev.regmirror.core.blob;

import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.storage.CacheLayout;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;

/**
 * The local spools of blobs relayed from their owner in a cluster: written and verified as any
 * ingest, but never stored (the owner stores the blob), the verified spool kept a minute for the
 * readers that joined the relay late, then removed.
 */
public final class RelaySpools {

    /** How long the spool of a verified relay is kept for readers that joined it late. */
    static final Duration KEPT = Duration.ofMinutes(1);

    private final CacheLayout layout;
    private final KeptFiles kept;

    public RelaySpools(CacheLayout layout, Clock clock) {
        this.layout = layout;
        this.kept = new KeptFiles(clock, KEPT);
    }

    /** Begins spooling a relayed blob expected to have this digest and, where known (not -1), this size. */
    public BlobIngest begin(Digest expected, long expectedSize) throws IOException {
        sweep();
        Path spool = layout.relaySpool(expected.hex());
        FileChannel channel = FileChannel.open(spool, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        return new BlobIngest(new Target(), expected, expectedSize, spool, channel);
    }

    /** Removes the spools whose minute is over; called as new relays begin. */
    void sweep() {
        kept.sweep();
    }

    /** A relay's commit stores nothing: the verified, synced spool is what its readers read, for a while. */
    private final class Target implements IngestTarget {

        @Override
        public Path commit(Path file, Digest digest, long size) {
            kept.keep(file);
            return file;
        }

        @Override
        public void finished(BlobIngest ingest, boolean committed) {
        }
    }
}
