package dev.regmirror.core.cache;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.regmirror.core.reference.Tag;
import dev.regmirror.core.storage.CacheLayout;
import dev.regmirror.core.upstream.Route;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
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
 * restarts in {@code pulls.json} under the cache directory, which {@link #flush} rewrites
 * atomically when something changed. Counts since the last flush are lost in a crash. At most
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

    private final CacheLayout layout;
    private final Path file;
    private final Clock clock;
    private final Map<String, Pulls> pulls = new ConcurrentHashMap<>();
    private final AtomicBoolean dirty = new AtomicBoolean();

    private PullStore(CacheLayout layout, Clock clock) {
        this.layout = layout;
        this.file = layout.pulls();
        this.clock = clock;
    }

    /** Opens the store of the cache, reading what an earlier run kept. Disk I/O. */
    public static PullStore open(CacheLayout layout, Clock clock) throws IOException {
        PullStore store = new PullStore(layout, clock);
        Files.createDirectories(layout.ingest());
        Map<String, Entry> saved;
        try {
            saved = JSON.readValue(Files.readAllBytes(store.file), new TypeReference<Map<String, Entry>>() { });
        } catch (NoSuchFileException e) {
            saved = Map.of();
        } catch (IOException e) {
            // Only statistics: a damaged file starts the counts afresh rather than stopping start-up.
            saved = Map.of();
        }
        saved.forEach((key, entry) -> store.pulls.put(key, new Pulls(entry.count(), Instant.ofEpochMilli(entry.lastEpochMillis()))));
        return store;
    }

    /** Counts one pull of the tag, now. */
    public void record(Route route, Tag tag) {
        Instant now = clock.instant();
        pulls.merge(key(route, tag), new Pulls(1, now), (old, one) -> new Pulls(old.count() + 1, now));
        dirty.set(true);
    }

    /** The tag's pulls, if it was pulled since counting began. */
    public Optional<Pulls> get(Route route, Tag tag) {
        return Optional.ofNullable(pulls.get(key(route, tag)));
    }

    /** Forgets the tag's pulls (for purges). */
    public void forget(Route route, Tag tag) {
        if (pulls.remove(key(route, tag)) != null) {
            dirty.set(true);
        }
    }

    /** Writes the counts if they changed since the last flush: to a scratch file, synced, then renamed. Disk I/O. */
    public void flush() throws IOException {
        if (!dirty.getAndSet(false)) {
            return;
        }
        forgetBeyond(MAX_TAGS);
        Map<String, Entry> snapshot = new TreeMap<>();
        pulls.forEach((key, value) -> snapshot.put(key, new Entry(value.count(), value.last().toEpochMilli())));
        Path temp = layout.scratchFile("pulls");
        try {
            Files.write(temp, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(snapshot));
            try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                channel.force(true);
            }
            Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            dirty.set(true);
            Files.deleteIfExists(temp);
            throw e;
        }
    }

    /** Forgets the least recently pulled tags beyond {@code max}. */
    void forgetBeyond(int max) {
        int excess = pulls.size() - max;
        if (excess <= 0) {
            return;
        }
        pulls.entrySet().stream().sorted(Map.Entry.comparingByValue(java.util.Comparator.comparing(Pulls::last)))
                .limit(excess).map(Map.Entry::getKey).toList().forEach(pulls::remove);
    }

    private static String key(Route route, Tag tag) {
        return route + ":" + tag.value();
    }
}
