package dev.regmirror.core.storage;

import dev.regmirror.core.reference.Digest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the nodes sharing one store tell each other of the changes they made, so that what one
 * node keeps in memory (its blob index, the tags it resolved lately, the catalog) follows what
 * another stored, purged, pruned or evicted within seconds. Each node appends its changes as small
 * objects under {@code changes/} ({@link CacheLayout#changes()}), one per {@link #publish()}, named
 * {@code <epoch millis, 13 digits>-<node>-<sequence>} so that a listing returns them in time
 * order; each node reads the others' as they appear ({@link #poll}) and deletes those older than
 * {@link #RETENTION}. Objects written with a clock behind the reader's are still read: the reader
 * looks back {@link #LOOKBACK} and remembers what it applied. A node that could not read the log for
 * longer than the retention is told to start over from the store ({@link Listener#resync()}).
 *
 * <p>An object holds lines: {@code + <digest> <size>} stored, {@code - <digest>} deleted,
 * {@code h <digest>} linked into a hosted repository, {@code t} tags forgotten, {@code r}
 * repositories changed. Storage I/O: call from a storage thread.
 */
public final class StoreChanges {

    /** What a node does with another node's changes. */
    public interface Listener {

        /** Another node stored the blob. */
        void stored(Digest digest, long size) throws IOException;

        /** Another node deleted the blob. */
        void deleted(Digest digest);

        /** Another node linked the blob or manifest into a hosted repository: it is hosted content now. */
        void hostedLinked(Digest digest);

        /** Another node forgot tags (a purge): resolutions held in memory may name what is gone. */
        void tagsForgotten();

        /** Another node added or removed repositories. */
        void repositoriesChanged() throws IOException;

        /** Changes may have been missed: drop everything held in memory and read the store again. */
        void resync() throws IOException;
    }

    private static final Logger LOG = LoggerFactory.getLogger(StoreChanges.class);
    /** How long change objects are kept; a node that could not read them for longer resyncs. */
    public static final Duration RETENTION = Duration.ofMinutes(5);
    /** How far before the newest change read a reader looks again, for writers whose clocks run behind. */
    static final Duration LOOKBACK = Duration.ofMinutes(1);
    private static final int MAX_LINES = 10_000;

    private final MetadataStore meta;
    private final String prefix;
    private final String tagsPrefix;
    private final String repositoriesPrefix;
    private final String hostedPrefix;
    private final String node;
    private final Clock clock;
    private final List<String> pending = new ArrayList<>();
    private long sequence;
    /** The keys of the others' changes applied, with when they were written, to skip them when looking back. */
    private final Map<String, Instant> applied = new HashMap<>();
    private Instant lastRead;
    private Instant lastPruned = Instant.EPOCH;

    /**
     * @param node this node's name in the log: letters, digits and '.', unique among the nodes
     *             sharing the store
     */
    public StoreChanges(MetadataStore meta, CacheLayout layout, String node, Clock clock) {
        if (!node.matches("[A-Za-z0-9.]{1,64}")) {
            throw new IllegalArgumentException("not a node name: " + node);
        }
        this.meta = meta;
        this.prefix = layout.key(layout.changes()) + "/";
        this.tagsPrefix = layout.key(layout.tags()) + "/";
        this.repositoriesPrefix = layout.key(layout.repositories()) + "/";
        this.hostedPrefix = layout.key(layout.hostedRepositories()) + "/";
        this.node = node;
        this.clock = clock;
        this.lastRead = clock.instant();
    }

    /** A name for this node no other node will have: 12 random hex digits. */
    public static String randomNode() {
        return java.util.HexFormat.of().formatHex(java.nio.ByteBuffer.allocate(8)
                .putLong(new java.security.SecureRandom().nextLong()).array(), 2, 8);
    }

    /**
     * The metadata store, telling this log when a tag is forgotten or a repository marker is
     * written or removed through it (the stores of tags and repositories need no part in it).
     */
    public MetadataStore reporting(MetadataStore store) {
        return new MetadataStore() {
            @Override
            public Optional<byte[]> read(String key) throws IOException {
                return store.read(key);
            }

            @Override
            public void write(String key, byte[] bytes) throws IOException {
                store.write(key, bytes);
                if (key.startsWith(repositoriesPrefix)) {
                    repositoriesChanged();
                } else if (key.startsWith(hostedPrefix)) {
                    hostedLink(key.substring(hostedPrefix.length())).ifPresent(StoreChanges.this::hostedLinked);
                }
            }

            @Override
            public Optional<Instant> lastModified(String key) throws IOException {
                return store.lastModified(key);
            }

            @Override
            public void delete(String key) throws IOException {
                store.delete(key);
                if (key.startsWith(tagsPrefix)) {
                    tagsForgotten();
                } else if (key.startsWith(repositoriesPrefix)) {
                    repositoriesChanged();
                }
            }

            @Override
            public List<String> list(String prefix) throws IOException {
                return store.list(prefix);
            }
        };
    }

    /** This node stored a blob. */
    public void stored(Digest digest, long size) {
        add("+ " + digest + " " + size);
    }

    /** This node deleted a blob. */
    public void deleted(Digest digest) {
        add("- " + digest);
    }

    /** This node linked a blob or manifest into a hosted repository. */
    public void hostedLinked(Digest digest) {
        add("h " + digest);
    }

    /** The digest a hosted blob or manifest link names, by its key below the hosted repositories. */
    private static Optional<Digest> hostedLink(String key) {
        return CacheLayout.hostedEntry(key)
                .filter(entry -> (entry.kind() == CacheLayout.HostedKind.BLOBS || entry.kind() == CacheLayout.HostedKind.MANIFESTS)
                        && entry.rest().size() == 2)
                .flatMap(entry -> {
                    try {
                        return Optional.of(Digest.parse(entry.rest().get(0) + ":" + entry.rest().get(1)));
                    } catch (RuntimeException notADigest) {
                        return Optional.empty();
                    }
                });
    }

    /** This node forgot tags. */
    public void tagsForgotten() {
        add("t");
    }

    /** This node added or removed repositories. */
    public void repositoriesChanged() {
        add("r");
    }

    private synchronized void add(String line) {
        if (pending.size() < MAX_LINES) {
            pending.add(line);
        } else if (!pending.get(pending.size() - 1).equals("overflow")) {
            // Too many to tell one by one: the others start over from the store.
            pending.add("overflow");
        }
    }

    /** Writes this node's changes since the last call, if any, as one object. */
    public void publish() throws IOException {
        List<String> lines;
        long number;
        synchronized (this) {
            if (pending.isEmpty()) {
                return;
            }
            lines = new ArrayList<>(pending);
            pending.clear();
            number = ++sequence;
        }
        String key = prefix + String.format("%013d-%s-%06d", clock.millis(), node, number % 1_000_000);
        try {
            meta.write(key, String.join("\n", lines).getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            synchronized (this) {
                pending.addAll(0, lines);
            }
            throw e;
        }
    }

    /**
     * Reads the other nodes' changes written since the last call and hands them to the listener in
     * time order; deletes changes past the retention now and then.
     */
    public void poll(Listener listener) throws IOException {
        Instant now = clock.instant();
        List<String> keys = meta.list(prefix);
        if (Duration.between(lastRead, now).compareTo(RETENTION.minus(LOOKBACK)) > 0) {
            LOG.warn("the store's change log was not read for {} s: starting over from the store",
                    Duration.between(lastRead, now).toSeconds());
            listener.resync();
            applied.clear();
            for (String key : keys) {
                writtenAt(key).ifPresent(at -> applied.put(key, at));
            }
            lastRead = now;
            return;
        }
        Instant from = lastRead.minus(LOOKBACK);
        for (String key : keys) {
            Optional<Instant> at = writtenAt(key);
            if (at.isEmpty() || at.get().isBefore(from) || applied.containsKey(key)) {
                continue;
            }
            if (!key.substring(prefix.length()).split("-")[1].equals(node)) {
                Optional<byte[]> bytes = meta.read(key);
                if (bytes.isPresent()) {
                    apply(new String(bytes.get(), StandardCharsets.UTF_8), listener);
                }
            }
            applied.put(key, at.get());
        }
        lastRead = now;
        applied.values().removeIf(at -> at.isBefore(now.minus(LOOKBACK).minus(LOOKBACK)));
        if (Duration.between(lastPruned, now).compareTo(LOOKBACK) >= 0) {
            lastPruned = now;
            for (String key : keys) {
                Optional<Instant> at = writtenAt(key);
                if (at.isPresent() && at.get().isBefore(now.minus(RETENTION))) {
                    meta.delete(key);
                }
            }
        }
    }

    private static void apply(String text, Listener listener) throws IOException {
        boolean tags = false;
        boolean repositories = false;
        for (Iterator<String> lines = text.lines().iterator(); lines.hasNext(); ) {
            String[] line = lines.next().split(" ");
            try {
                switch (line[0]) {
                    case "+" -> listener.stored(Digest.parse(line[1]), Long.parseLong(line[2]));
                    case "-" -> listener.deleted(Digest.parse(line[1]));
                    case "h" -> listener.hostedLinked(Digest.parse(line[1]));
                    case "t" -> tags = true;
                    case "r" -> repositories = true;
                    case "overflow" -> {
                        listener.resync();
                        return;
                    }
                    default -> LOG.debug("skipping a change this version does not know: {}", String.join(" ", line));
                }
            } catch (RuntimeException unreadable) {
                LOG.debug("skipping an unreadable change: {}", String.join(" ", line));
            }
        }
        if (tags) {
            listener.tagsForgotten();
        }
        if (repositories) {
            listener.repositoriesChanged();
        }
    }

    /** When the change object under that key was written, by its name; empty for a key not of this log. */
    private Optional<Instant> writtenAt(String key) {
        String name = key.substring(prefix.length());
        String[] parts = name.split("-");
        if (parts.length != 3 || parts[0].length() != 13) {
            return Optional.empty();
        }
        try {
            return Optional.of(Instant.ofEpochMilli(Long.parseLong(parts[0])));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }
}
