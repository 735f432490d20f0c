package dev.regmirror.core.cache;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.regmirror.core.reference.Tag;
import dev.regmirror.core.storage.CacheLayout;
import dev.regmirror.core.storage.FileMetadataStore;
import dev.regmirror.core.storage.MetadataStore;
import dev.regmirror.core.upstream.Route;
import java.io.IOException;
import java.time.Clock;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * How often each cached tag was pulled through regmirror and when last: counted in memory on
 * every answered manifest request by tag (lock-free, callable from an event loop), kept across
 * restarts in {@code pulls.json} in the cache's {@link MetadataStore}, which {@link #flush}
 * rewrites atomically when something changed. A flush adds this process's pulls since the last
 * flush to what the store holds then, rather than writing its own counts over it, so that nodes
 * sharing a bucket count every node's pulls (two flushes at the same moment may lose one's
 * additions: these are statistics). Counts since the last flush are lost in a crash. At most
 * {@value #MAX_TAGS} tags are kept: a flush forgets the least recently pulled beyond that.
 */
public final class PullStore {

    /** A tag's pull count and the time of the last one. */
    public record Pulls(long count, Instant last) {
    }

    /** The file's entries: {@code <registry>/<name>:<tag>} to its pulls. */
    private record Entry(long count, long lastEpochMillis) {
    }

    static final int MAX_TAGS = 100_000;

    private static final ObjectMapper JSON = new ObjectMapper();

    private final MetadataStore meta;
    private final String key;
    private final Clock clock;
    /** The counts as of the last flush, with this process's pulls since. */
    private final Map<String, Pulls> pulls = new ConcurrentHashMap<>();
    /** This process's pulls since the last flush, to add to the store's. */
    private volatile Map<String, Pulls> added = new ConcurrentHashMap<>();
    /** Tags forgotten since the last flush, to remove from the store's. */
    private final java.util.Set<String> forgotten = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean dirty = new AtomicBoolean();

    private PullStore(CacheLayout layout, MetadataStore meta, Clock clock) {
        this.meta = meta;
        this.key = layout.key(layout.pulls());
        this.clock = clock;
    }

    /** Opens the store in a file under the cache directory, reading what an earlier run kept. Disk I/O. */
    public static PullStore open(CacheLayout layout, Clock clock) throws IOException {
        return open(layout, new FileMetadataStore(layout), clock);
    }

    /** Opens the store in {@code meta}, reading what an earlier run kept. Storage I/O. */
    public static PullStore open(CacheLayout layout, MetadataStore meta, Clock clock) throws IOException {
        PullStore store = new PullStore(layout, meta, clock);
        store.pulls.putAll(store.read());
        return store;
    }

    /** What the store holds; a damaged file reads as nothing (only statistics: counts start afresh). */
    private Map<String, Pulls> read() throws IOException {
        Map<String, Entry> saved;
        try {
            Optional<byte[]> bytes = meta.read(key);
            saved = bytes.isEmpty() ? Map.of()
                    : JSON.readValue(bytes.get(), new TypeReference<Map<String, Entry>>() { });
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            saved = Map.of();
        }
        Map<String, Pulls> read = new java.util.HashMap<>();
        saved.forEach((tag, entry) -> read.put(tag, new Pulls(entry.count(), Instant.ofEpochMilli(entry.lastEpochMillis()))));
        return read;
    }

    /** Counts one pull of the tag, now. */
    public void record(Route route, Tag tag) {
        Instant now = clock.instant();
        String key = key(route, tag);
        pulls.merge(key, new Pulls(1, now), PullStore::plus);
        added.merge(key, new Pulls(1, now), PullStore::plus);
        dirty.set(true);
    }

    /** The tag's pulls, if it was pulled since counting began. */
    public Optional<Pulls> get(Route route, Tag tag) {
        return Optional.ofNullable(pulls.get(key(route, tag)));
    }

    /** Forgets the tag's pulls (for purges). */
    public void forget(Route route, Tag tag) {
        String key = key(route, tag);
        pulls.remove(key);
        added.remove(key);
        forgotten.add(key);
        dirty.set(true);
    }

    private static Pulls plus(Pulls counted, Pulls more) {
        return new Pulls(counted.count() + more.count(), counted.last().isAfter(more.last()) ? counted.last() : more.last());
    }

    /**
     * Adds the pulls since the last flush to what the store holds, removes the tags forgotten since,
     * and writes the result atomically, if anything changed; the counts in memory become the store's
     * (read again when nothing changed here). Storage I/O.
     */
    public void flush() throws IOException {
        if (!dirty.getAndSet(false)) {
            // Nothing to add: the store's counts, which other nodes sharing it may have changed.
            Map<String, Pulls> now = read();
            added.forEach((tag, more) -> now.merge(tag, more, PullStore::plus));
            pulls.putAll(now);
            pulls.keySet().retainAll(now.keySet());
            return;
        }
        Map<String, Pulls> adding = added;
        added = new ConcurrentHashMap<>();
        java.util.Set<String> removing = java.util.Set.copyOf(forgotten);
        try {
            Map<String, Pulls> merged = read();
            merged.keySet().removeAll(removing);
            adding.forEach((tag, more) -> merged.merge(tag, more, PullStore::plus));
            Map<String, Entry> snapshot = new TreeMap<>();
            latest(merged, MAX_TAGS).forEach((tag, value) -> snapshot.put(tag, new Entry(value.count(),
                    value.last().toEpochMilli())));
            meta.write(key, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(snapshot));
            forgotten.removeAll(removing);
            // The store's counts, with what was pulled meanwhile on top.
            Map<String, Pulls> now = new java.util.HashMap<>();
            snapshot.forEach((tag, entry) -> now.put(tag, new Pulls(entry.count(), Instant.ofEpochMilli(entry.lastEpochMillis()))));
            added.forEach((tag, more) -> now.merge(tag, more, PullStore::plus));
            pulls.putAll(now);
            pulls.keySet().retainAll(now.keySet());
        } catch (IOException e) {
            adding.forEach((tag, more) -> added.merge(tag, more, PullStore::plus));
            dirty.set(true);
            throw e;
        }
    }

    /** The {@code max} most recently pulled of the counts. */
    private static Map<String, Pulls> latest(Map<String, Pulls> counts, int max) {
        if (counts.size() <= max) {
            return counts;
        }
        Map<String, Pulls> kept = new java.util.HashMap<>();
        counts.entrySet().stream().sorted(Map.Entry.comparingByValue(
                        java.util.Comparator.comparing(Pulls::last).reversed()))
                .limit(max).forEach(entry -> kept.put(entry.getKey(), entry.getValue()));
        return kept;
    }

    /** Forgets the least recently pulled tags beyond {@code max}. */
    void forgetBeyond(int max) {
        pulls.keySet().retainAll(latest(pulls, max).keySet());
    }

    private static String key(Route route, Tag tag) {
        return route + ":" + tag.value();
    }
}
