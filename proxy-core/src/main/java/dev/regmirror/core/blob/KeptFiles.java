package dev.regmirror.core.blob;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Local spool files kept a while after their blob was verified, for the readers that joined its
 * download late, then removed: the spool of a blob stored in a bucket, or of one relayed from its
 * owner. Removal happens when {@link #sweep} is called (as new downloads begin), not on a timer.
 */
public final class KeptFiles {

    private static final Logger LOG = LoggerFactory.getLogger(KeptFiles.class);

    private record Kept(Path file, Instant until) {
    }

    private final Clock clock;
    private final Duration kept;
    private final Deque<Kept> files = new ArrayDeque<>();

    /** @param kept how long each file is kept */
    public KeptFiles(Clock clock, Duration kept) {
        this.clock = clock;
        this.kept = kept;
    }

    /** Keeps the file until its time is over. */
    public void keep(Path file) {
        synchronized (files) {
            files.addLast(new Kept(file, clock.instant().plus(kept)));
        }
    }

    /** Removes the files whose time is over. Disk I/O. */
    public void sweep() {
        Instant now = clock.instant();
        while (true) {
            Kept next;
            synchronized (files) {
                next = files.peekFirst();
                if (next == null || next.until().isAfter(now)) {
                    return;
                }
                files.removeFirst();
            }
            try {
                Files.deleteIfExists(next.file());
            } catch (IOException e) {
                LOG.debug("removing spool {}: {}", next.file(), e.toString());
            }
        }
    }
}
