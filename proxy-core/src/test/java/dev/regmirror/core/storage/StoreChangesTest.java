package dev.regmirror.core.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.testing.MutableClock;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StoreChangesTest {

    private static final Digest ONE = Digest.sha256Of("one".getBytes(StandardCharsets.UTF_8));
    private static final Digest TWO = Digest.sha256Of("two".getBytes(StandardCharsets.UTF_8));

    @TempDir
    Path dir;

    private CacheLayout layout;
    private MetadataStore meta;
    private final MutableClock clock = new MutableClock(Instant.parse("2026-12-03T12:00:00Z"));
    private final Heard heard = new Heard();

    @BeforeEach
    void open() throws IOException {
        layout = new CacheLayout(dir);
        meta = new FileMetadataStore(layout);
    }

    @Test
    void aNodeHearsWhatAnotherPublishedInOrderAndNotItsOwn() throws IOException {
        StoreChanges a = new StoreChanges(meta, layout, "a", clock);
        StoreChanges b = new StoreChanges(meta, layout, "b", clock);
        a.stored(ONE, 10);
        a.deleted(TWO);
        a.reporting(meta).write(layout.key(layout.hostedRepositories()) + "/lan/app/_blobs/sha256/" + ONE.hex(), new byte[0]);
        a.publish();
        clock.advance(Duration.ofMillis(5));
        a.tagsForgotten();
        a.repositoriesChanged();
        a.publish();
        b.stored(TWO, 20);
        b.publish();

        b.poll(heard);
        assertEquals(List.of("+ " + ONE + " 10", "- " + TWO, "h " + ONE, "tags", "repositories"), heard.lines);
        heard.lines.clear();
        a.poll(heard);
        assertEquals(List.of("+ " + TWO + " 20"), heard.lines, "a hears b's, not its own");
        heard.lines.clear();
        b.poll(heard);
        assertEquals(List.of(), heard.lines, "nothing twice");
    }

    @Test
    void aChangeWrittenByAClockBehindIsStillHeard() throws IOException {
        MutableClock behind = new MutableClock(clock.instant().minusSeconds(30));
        StoreChanges a = new StoreChanges(meta, layout, "a", behind);
        StoreChanges b = new StoreChanges(meta, layout, "b", clock);
        b.poll(heard);
        a.deleted(ONE);
        a.publish();
        clock.advance(Duration.ofSeconds(1));
        b.poll(heard);
        assertEquals(List.of("- " + ONE), heard.lines);
    }

    @Test
    void oldChangesAreDeletedAndANodeThatReadNothingForLongerStartsOver() throws IOException {
        StoreChanges a = new StoreChanges(meta, layout, "a", clock);
        StoreChanges b = new StoreChanges(meta, layout, "b", clock);
        b.poll(heard);
        a.deleted(ONE);
        a.publish();
        for (int minute = 0; minute <= StoreChanges.RETENTION.toMinutes(); minute++) {
            clock.advance(Duration.ofMinutes(1));
            a.poll(heard);
        }
        assertEquals(List.of(), meta.list(layout.key(layout.changes()) + "/"), "past the retention: deleted");
        assertEquals(List.of(), heard.lines, "a polled all along");
        b.poll(heard);
        assertEquals(List.of("resync"), heard.lines, "b read nothing for longer than the retention");
    }

    @Test
    void tooManyChangesToTellMakeTheOthersStartOver() throws IOException {
        StoreChanges a = new StoreChanges(meta, layout, "a", clock);
        StoreChanges b = new StoreChanges(meta, layout, "b", clock);
        for (int i = 0; i < 10_001; i++) {
            a.deleted(ONE);
        }
        a.publish();
        b.poll(heard);
        assertEquals(10_001, heard.lines.size());
        assertEquals("resync", heard.lines.get(10_000));
    }

    @Test
    void aNodeNameMustFitTheLogsNames() {
        assertThrows(IllegalArgumentException.class, () -> new StoreChanges(meta, layout, "a-b", clock));
        assertEquals(12, StoreChanges.randomNode().length());
    }

    private static final class Heard implements StoreChanges.Listener {

        final List<String> lines = new ArrayList<>();

        @Override
        public void stored(Digest digest, long size) {
            lines.add("+ " + digest + " " + size);
        }

        @Override
        public void deleted(Digest digest) {
            lines.add("- " + digest);
        }

        @Override
        public void hostedLinked(Digest digest) {
            lines.add("h " + digest);
        }

        @Override
        public void tagsForgotten() {
            lines.add("tags");
        }

        @Override
        public void repositoriesChanged() {
            lines.add("repositories");
        }

        @Override
        public void resync() {
            lines.add("resync");
        }
    }
}
