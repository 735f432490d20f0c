package dev.regmirror.core.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.reference.Tag;
import dev.regmirror.core.storage.CacheLayout;
import dev.regmirror.core.upstream.Route;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * What each tag last resolved to and when: {@code tags/<registry>/<name>/:<tag>} holding
 * {@code <digest> <epoch millis>} (a repository component cannot contain {@code :}, so tag files
 * never collide with nested names). The most recently used are kept in memory; written atomically and synced, so
 * after a crash a tag is either its old or its new resolution. Disk I/O: call from a disk executor.
 */
public final class TagStore {

    /** A tag's last resolution. */
    public record Resolution(Digest digest, Instant resolvedAt) {
    }

    private record Key(Route route, Tag tag) {
    }

    private final CacheLayout layout;
    /** Recently used resolutions; bounded, so asking for random tags cannot grow the heap. */
    private final Cache<Key, Resolution> known = Caffeine.newBuilder().maximumSize(100_000).build();

    public TagStore(CacheLayout layout) throws IOException {
        this.layout = layout;
        Files.createDirectories(layout.tags());
        Files.createDirectories(layout.ingest());
    }

    /** The tag's last resolution, if it was ever resolved. */
    public Optional<Resolution> get(Route route, Tag tag) throws IOException {
        Key key = new Key(route, tag);
        Resolution cached = known.getIfPresent(key);
        if (cached != null) {
            return Optional.of(cached);
        }
        Optional<Resolution> read = read(file(route, tag));
        read.ifPresent(resolution -> known.put(key, resolution));
        return read;
    }

    /** The tag's last resolution if it is among those kept in memory; no disk I/O, safe anywhere. */
    public Optional<Resolution> known(Route route, Tag tag) {
        return Optional.ofNullable(known.getIfPresent(new Key(route, tag)));
    }

    /** Records that the tag resolved to the digest at that time. */
    public void put(Route route, Tag tag, Resolution resolution) throws IOException {
        CacheFiles.replace(layout, "tag", file(route, tag), (resolution.digest() + " "
                + resolution.resolvedAt().toEpochMilli()).getBytes(StandardCharsets.UTF_8));
        known.put(new Key(route, tag), resolution);
    }

    /**
     * The tags of the repository that were ever resolved, in lexical order (a listing of its
     * {@code :<tag>} files; names that are not valid tags are skipped).
     */
    public List<Tag> tags(Route route) throws IOException {
        Path directory;
        try {
            directory = layout.tagDirectory(route);
        } catch (IllegalArgumentException escapes) {
            return List.of();
        }
        if (!Files.isDirectory(directory)) {
            return List.of();
        }
        List<Tag> tags = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(directory, CacheLayout.tagGlob())) {
            for (Path file : files) {
                String value = CacheLayout.tagOf(file);
                if (Files.isRegularFile(file)) {
                    try {
                        tags.add(new Tag(value));
                    } catch (RuntimeException notATag) {
                        // not written by this store: skip it
                    }
                }
            }
        }
        tags.sort(Comparator.comparing(Tag::value));
        return tags;
    }

    /** Forgets every resolution (for purges); the files go too. */
    public void forget(Route route, Tag tag) throws IOException {
        Files.deleteIfExists(file(route, tag));
        known.invalidate(new Key(route, tag));
    }

    private Path file(Route route, Tag tag) {
        return layout.tag(route, tag);
    }

    private static Optional<Resolution> read(Path file) throws IOException {
        Optional<byte[]> bytes = CacheFiles.read(file);
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
