package dev.regmirror.core.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.regmirror.core.reference.RepositoryName;
import dev.regmirror.core.reference.Tag;
import dev.regmirror.core.storage.CacheLayout;
import dev.regmirror.core.testing.MutableClock;
import dev.regmirror.core.upstream.Route;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Pull counts: counted in memory, kept across a flush and a reopen, forgotten on purge. */
class PullStoreTest {

    private static final Route APP = new Route("docker.io", new RepositoryName("library/app"));
    private static final Route OTHER = new Route("ghcr.io", new RepositoryName("org/app"));

    @TempDir
    Path dir;

    @Test
    void countsSurviveAFlushAndAReopen() throws Exception {
        Instant first = Instant.parse("2026-11-22T10:00:00Z");
        PullStore store = PullStore.open(new CacheLayout(dir), Clock.fixed(first, ZoneOffset.UTC));
        store.record(APP, new Tag("1.0"));
        store.record(APP, new Tag("1.0"));
        store.record(OTHER, new Tag("1.0"));
        assertEquals(Optional.of(new PullStore.Pulls(2, first)), store.get(APP, new Tag("1.0")));
        assertEquals(Optional.empty(), store.get(APP, new Tag("2.0")));
        store.flush();

        Instant later = first.plusSeconds(60);
        PullStore reopened = PullStore.open(new CacheLayout(dir), Clock.fixed(later, ZoneOffset.UTC));
        assertEquals(Optional.of(new PullStore.Pulls(2, first)), reopened.get(APP, new Tag("1.0")));
        reopened.record(APP, new Tag("1.0"));
        assertEquals(Optional.of(new PullStore.Pulls(3, later)), reopened.get(APP, new Tag("1.0")));
        assertEquals(Optional.of(new PullStore.Pulls(1, first)), reopened.get(OTHER, new Tag("1.0")));

        reopened.forget(OTHER, new Tag("1.0"));
        reopened.flush();
        PullStore third = PullStore.open(new CacheLayout(dir), Clock.systemUTC());
        assertEquals(Optional.empty(), third.get(OTHER, new Tag("1.0")));
        assertEquals(3, third.get(APP, new Tag("1.0")).orElseThrow().count());
        try (var leftovers = Files.list(new CacheLayout(dir).ingest())) {
            assertEquals(0, leftovers.count(), "no scratch file left behind");
        }
    }

    @Test
    void theLeastRecentlyPulledGoBeyondTheLimit() throws Exception {
        MutableClock clock = new MutableClock(Instant.parse("2026-11-22T10:00:00Z"));
        PullStore store = PullStore.open(new CacheLayout(dir), clock);
        for (int i = 0; i < 5; i++) {
            store.record(APP, new Tag("v" + i));
            clock.advance(Duration.ofMinutes(1));
        }
        store.record(APP, new Tag("v0"));
        store.forgetBeyond(3);
        assertTrue(store.get(APP, new Tag("v0")).isPresent(), "pulled last");
        assertTrue(store.get(APP, new Tag("v1")).isEmpty());
        assertTrue(store.get(APP, new Tag("v2")).isEmpty());
        assertTrue(store.get(APP, new Tag("v3")).isPresent());
        assertTrue(store.get(APP, new Tag("v4")).isPresent());
    }

    @Test
    void processesSharingTheStoreAddTheirPullsUpAndForgetTogether() throws Exception {
        MutableClock clock = new MutableClock(Instant.parse("2026-11-22T10:00:00Z"));
        PullStore one = PullStore.open(new CacheLayout(dir), clock);
        PullStore other = PullStore.open(new CacheLayout(dir), clock);
        one.record(APP, new Tag("1.0"));
        one.record(APP, new Tag("1.0"));
        clock.advance(Duration.ofMinutes(1));
        other.record(APP, new Tag("1.0"));
        other.record(APP, new Tag("2.0"));
        one.flush();
        other.flush();
        assertEquals(3, other.get(APP, new Tag("1.0")).orElseThrow().count(), "the other's flush added to the store's");
        assertEquals(clock.instant(), other.get(APP, new Tag("1.0")).orElseThrow().last());
        one.record(APP, new Tag("1.0"));
        one.flush();
        assertEquals(4, one.get(APP, new Tag("1.0")).orElseThrow().count(), "one reads the other's back at its flush");
        assertEquals(1, one.get(APP, new Tag("2.0")).orElseThrow().count());

        other.forget(APP, new Tag("1.0"));
        other.flush();
        one.flush();
        assertTrue(PullStore.open(new CacheLayout(dir), clock).get(APP, new Tag("1.0")).isEmpty(), "a purge on one is kept");
        assertTrue(one.get(APP, new Tag("1.0")).isEmpty(), "and seen by the other at its next flush");
    }

    @Test
    void aDamagedFileStartsTheCountsAfresh() throws Exception {
        Files.writeString(new CacheLayout(dir).pulls(), "{ not json");
        PullStore store = PullStore.open(new CacheLayout(dir), Clock.systemUTC());
        assertTrue(store.get(APP, new Tag("1.0")).isEmpty());
        store.record(APP, new Tag("1.0"));
        store.flush();
        assertEquals(1, PullStore.open(new CacheLayout(dir), Clock.systemUTC()).get(APP, new Tag("1.0")).orElseThrow().count());
    }
}
