package dev.regmirror.core.blob;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.storage.CacheLayout;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The spool of a relayed blob stays readable a minute after its commit, then the next relay removes it. */
class RelaySpoolsTest {

    @TempDir
    Path dir;

    @Test
    void aVerifiedSpoolIsKeptAMinuteThenRemoved() throws IOException {
        CacheLayout layout = new CacheLayout(dir);
        Files.createDirectories(layout.ingest());
        AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-12-03T12:00:00Z"));
        Clock clock = new Clock() {
            @Override
            public ZoneOffset getZone() {
                return ZoneOffset.UTC;
            }

            @Override
            public Clock withZone(java.time.ZoneId zone) {
                return this;
            }

            @Override
            public Instant instant() {
                return now.get();
            }
        };
        RelaySpools spools = new RelaySpools(layout, clock);
        byte[] bytes = "relayed from the owner".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        BlobIngest relay = spools.begin(Digest.sha256Of(bytes), bytes.length);
        relay.write(ByteBuffer.wrap(bytes));
        relay.commit();
        Path spool = relay.readablePath();
        assertTrue(spool.startsWith(layout.ingest()), "spooled in ingest/: " + spool);

        now.set(now.get().plus(Duration.ofSeconds(59)));
        spools.begin(Digest.sha256Of(new byte[1]), 1).abort();
        assertArrayEquals(bytes, Files.readAllBytes(spool), "late readers still read it within the minute");

        now.set(now.get().plus(Duration.ofSeconds(2)));
        spools.begin(Digest.sha256Of(new byte[1]), 1).abort();
        assertFalse(Files.exists(spool), "gone after the minute");
    }
}
