package dev.regmirror.core.storage;

import dev.regmirror.core.cache.CacheFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * {@link MetadataStore} on the local file system: a key is a file under the cache directory,
 * written by {@link CacheFiles#replace} (a synced scratch file renamed over it, the directory synced),
 * its modification time the time it was written (by the clock given, when one is).
 */
public final class FileMetadataStore implements MetadataStore {

    private final CacheLayout layout;
    private final Path root;
    private final Optional<Clock> clock;

    /** The small objects of the cache of that layout; keys are relative to its directory. */
    public FileMetadataStore(CacheLayout layout) throws IOException {
        this(layout, Optional.empty());
    }

    /** As {@link #FileMetadataStore(CacheLayout)}, each file's modification time set from the clock as it is written. */
    public FileMetadataStore(CacheLayout layout, Clock clock) throws IOException {
        this(layout, Optional.of(clock));
    }

    private FileMetadataStore(CacheLayout layout, Optional<Clock> clock) throws IOException {
        this.layout = layout;
        this.root = layout.root();
        this.clock = clock;
        Files.createDirectories(layout.ingest());
    }

    @Override
    public Optional<byte[]> read(String key) throws IOException {
        try {
            return Optional.of(Files.readAllBytes(file(key)));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    @Override
    public void write(String key, byte[] bytes) throws IOException {
        Path file = file(key);
        CacheFiles.replace(layout, "meta", file, bytes);
        if (clock.isPresent()) {
            Files.setLastModifiedTime(file, FileTime.from(clock.get().instant()));
        }
    }

    @Override
    public Optional<Instant> lastModified(String key) throws IOException {
        try {
            return Optional.of(Files.getLastModifiedTime(file(key)).toInstant());
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    @Override
    public void delete(String key) throws IOException {
        Files.deleteIfExists(file(key));
    }

    @Override
    public List<String> list(String prefix) throws IOException {
        int slash = prefix.lastIndexOf('/');
        Path directory = slash < 0 ? root : file(prefix.substring(0, slash));
        if (!Files.isDirectory(directory)) {
            return List.of();
        }
        List<String> keys = new ArrayList<>();
        try (Stream<Path> files = Files.walk(directory)) {
            files.filter(Files::isRegularFile).forEach(file -> {
                String key = root.relativize(file).toString().replace('\\', '/');
                if (key.startsWith(prefix)) {
                    keys.add(key);
                }
            });
        } catch (java.io.UncheckedIOException e) {
            if (!(e.getCause() instanceof NoSuchFileException)) {
                throw e.getCause();
            }
            // a directory removed while walking: list what is left
        }
        Collections.sort(keys);
        return keys;
    }

    private Path file(String key) {
        Path file = root.resolve(MetadataStore.checkKey(key)).normalize();
        if (!file.startsWith(root) || file.equals(root)) {
            throw new IllegalArgumentException("key \"" + key + "\" leaves the store");
        }
        return file;
    }
}
