package dev.regmirror.core.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.reference.Tag;
import dev.regmirror.core.storage.CacheLayout;
import dev.regmirror.core.storage.FileMetadataStore;
import dev.regmirror.core.storage.MetadataStore;
import dev.regmirror.core.upstream.Route;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * What each tag last resolved to and when: {@code tags/<registry>/<name>/:<tag>} holding
 * {@code <digest> <epoch millis>} (a repository component cannot contain {@code :}, so tag files
 * never collide with nested names), kept in the cache's {@link MetadataStore} (files on disk, or
 * objects in the bucket). The most recently used are kept in memory; each is written atomically,
 * so after a crash a tag is either its old or its new resolution. Storage I/O: call from a disk
 * executor.
 */
public final class TagStore {

    /** A tag's last resolution. */
    public record Resolution(Digest digest, Instant resolvedAt) {
    }

    private record Key(Route route, Tag tag) {
    }

    /** What starts the last segment of a tag's key, as the layout names them ({@code :<tag>}). */
    private static final String TAG_MARK = CacheLayout.tagGlob().substring(0, CacheLayout.tagGlob().length() - 1);

    private final CacheLayout layout;
    private final MetadataStore meta;
    /** Recently used resolutions; bounded, so asking for random tags cannot grow the heap. */
    private final Cache<Key, Resolution> known = Caffeine.newBuilder().maximumSize(100_000).build();

    /** Tags in files under the cache directory. */
    public TagStore(CacheLayout layout) throws IOException {
        this(layout, new FileMetadataStore(layout));
    }

    /** Tags in the store, under the layout's names. */
    public TagStore(CacheLayout layout, MetadataStore meta) {
        this.layout = layout;
        this.meta = meta;
    }

    /** The tag's last resolution, if it was ever resolved. */
    public Optional<Resolution> get(Route route, Tag tag) throws IOException {
        Key key = new Key(route, tag);
        Resolution cached = known.getIfPresent(key);
        if (cached != null) {
            return Optional.of(cached);
        }
        Optional<Resolution> read = read(meta.read(key(route, tag)));
        read.ifPresent(resolution -> known.put(key, resolution));
        return read;
    }

    /** The tag's last resolution if it is among those kept in memory; no disk I/O, safe anywhere. */
    public Optional<Resolution> known(Route route, Tag tag) {
        return Optional.ofNullable(known.getIfPresent(new Key(route, tag)));
    }

    /** Records that the tag resolved to the digest at that time. */
    public void put(Route route, Tag tag, Resolution resolution) throws IOException {
        meta.write(key(route, tag), (resolution.digest() + " "
                + resolution.resolvedAt().toEpochMilli()).getBytes(StandardCharsets.UTF_8));
        known.put(new Key(route, tag), resolution);
    }

    /**
     * Keeps the tag's resolution in memory only, not in the store: what another node (the tag's
     * owner in a cluster) resolved and stored. No I/O, safe anywhere.
     */
    public void remember(Route route, Tag tag, Resolution resolution) {
        known.put(new Key(route, tag), resolution);
    }

    /**
     * The tags of the repository that were ever resolved, in lexical order (a listing of its
     * {@code :<tag>} files; names that are not valid tags are skipped).
     */
    public List<Tag> tags(Route route) throws IOException {
        String prefix;
        try {
            prefix = layout.key(layout.tagDirectory(route)) + "/" + TAG_MARK;
        } catch (IllegalArgumentException escapes) {
            return List.of();
        }
        List<Tag> tags = new ArrayList<>();
        for (String key : meta.list(prefix)) {
            if (key.indexOf('/', prefix.length()) >= 0) {
                continue; // a nested repository's
            }
            String value = CacheLayout.tagOf(java.nio.file.Path.of(key));
            try {
                tags.add(new Tag(value));
            } catch (RuntimeException notATag) {
                // not written by this store: skip it
            }
        }
        tags.sort(Comparator.comparing(Tag::value));
        return tags;
    }

    /**
     * Drops the resolutions kept in memory, so each is read from the store again: another node
     * sharing the store forgot tags (a purge).
     */
    public void dropRemembered() {
        known.invalidateAll();
    }

    /** Forgets every resolution (for purges); the files go too. */
    public void forget(Route route, Tag tag) throws IOException {
        meta.delete(key(route, tag));
        known.invalidate(new Key(route, tag));
    }

    private String key(Route route, Tag tag) {
        return layout.key(layout.tag(route, tag));
    }

    private static Optional<Resolution> read(Optional<byte[]> bytes) {
        if (bytes.isEmpty()) {
            return Optional.empty();
        }
        String[] parts = new String(bytes.get(), StandardCharsets.UTF_8).trim().split(" ");
        try {
            return Optional.of(new Resolution(Digest.parse(parts[0]), Instant.ofEpochMilli(Long.parseLong(parts[1]))));
        } catch (RuntimeException unreadable) {
            return Optional.empty();
        }
    }
}
