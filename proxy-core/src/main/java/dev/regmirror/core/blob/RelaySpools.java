package dev.regmirror.core.blob;

import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.storage.CacheLayout;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The local spools of blobs relayed from their owner in a cluster: written and verified as any
 * ingest, but never stored (the owner stores the blob), the verified spool kept a minute for the
 * readers that joined the relay late, then removed.
 */
public final class RelaySpools {

    private static final Logger LOG = LoggerFactory.getLogger(RelaySpools.class);
    /** How long the spool of a verified relay is kept for readers that joined it late. */
    static final Duration KEPT = Duration.ofMinutes(1);

    private record Kept(Path file, Instant until) {
    }

    private final CacheLayout layout;
    private final Clock clock;
    private final Deque<Kept> kept = new ArrayDeque<>();

    public RelaySpools(CacheLayout layout, Clock clock) {
        this.layout = layout;
        this.clock = clock;
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
        Instant now = clock.instant();
        while (true) {
            Kept next;
            synchronized (kept) {
                next = kept.peekFirst();
                if (next == null || next.until().isAfter(now)) {
                    return;
                }
                kept.removeFirst();
            }
            try {
                Files.deleteIfExists(next.file());
            } catch (IOException e) {
                LOG.debug("removing relay spool {}: {}", next.file(), e.toString());
            }
        }
    }

    /** A relay's commit stores nothing: the verified, synced spool is what its readers read, for a while. */
    private final class Target implements IngestTarget {

        @Override
        public Path commit(Path file, Digest digest, long size) {
            synchronized (kept) {
                kept.addLast(new Kept(file, clock.instant().plus(KEPT)));
            }
            return file;
        }

        @Override
        public void finished(BlobIngest ingest, boolean committed) {
        }
    }
}
