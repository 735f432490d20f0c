package dev.regmirror.core.cache;

import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.storage.CacheLayout;
import dev.regmirror.core.upstream.Route;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import java.util.Objects;
import java.util.Optional;

/**
 * The last referrers list answered for each subject of a mirrored repository, and when:
 * {@code referrers/<registry>/<name>/:<alg>-<hex>/all} for the whole list, {@code .../type-<sha256 of
 * the artifactType>} for a filtered one. Each file holds one line {@code <epoch millis> <source>
 * <filtered> <media type>} and then the image index's bytes; files are replaced atomically and
 * synced ({@link CacheFiles}, as {@link TagStore} does). Disk I/O: call from a disk executor.
 */
public final class ReferrerStore {

    /** Where a list came from. */
    public enum Source {
        /** The upstream's referrers API. */
        UPSTREAM,
        /** The upstream's tag of the referrers tag schema. */
        FALLBACK,
        /** Neither: the empty list. */
        EMPTY
    }

    /**
     * A list as it was answered.
     *
     * @param filtered whether the {@code artifactType} filter was applied (upstream or here)
     */
    public record Entry(byte[] index, String mediaType, boolean filtered, Source source, Instant fetchedAt) {

        public Entry {
            Objects.requireNonNull(index, "index");
            Objects.requireNonNull(source, "source");
            Objects.requireNonNull(fetchedAt, "fetchedAt");
            if (mediaType == null || mediaType.isBlank() || mediaType.contains("\n") || mediaType.contains(" ")) {
                throw new IllegalArgumentException("media type \"" + mediaType + "\" cannot be stored");
            }
        }
    }

    private final CacheLayout layout;

    public ReferrerStore(CacheLayout layout) throws IOException {
        this.layout = layout;
        Files.createDirectories(layout.referrers());
        Files.createDirectories(layout.ingest());
    }

    /** The last list answered for the subject under that filter, if any (an unreadable file is none). */
    public Optional<Entry> get(Route route, Digest subject, Optional<String> artifactType) throws IOException {
        Optional<byte[]> stored = CacheFiles.read(file(route, subject, artifactType));
        if (stored.isEmpty()) {
            return Optional.empty();
        }
        byte[] bytes = stored.get();
        int newline = indexOf(bytes, (byte) '\n');
        if (newline < 0) {
            return Optional.empty();
        }
        String[] head = new String(bytes, 0, newline, StandardCharsets.UTF_8).split(" ");
        try {
            return Optional.of(new Entry(Arrays.copyOfRange(bytes, newline + 1, bytes.length), head[3],
                    Boolean.parseBoolean(head[2]), Source.valueOf(head[1]), Instant.ofEpochMilli(Long.parseLong(head[0]))));
        } catch (RuntimeException unreadable) {
            return Optional.empty();
        }
    }

    /** Records the list answered for the subject under that filter. */
    public void put(Route route, Digest subject, Optional<String> artifactType, Entry entry) throws IOException {
        byte[] head = (entry.fetchedAt().toEpochMilli() + " " + entry.source() + " " + entry.filtered() + " "
                + entry.mediaType() + "\n").getBytes(StandardCharsets.UTF_8);
        byte[] bytes = Arrays.copyOf(head, head.length + entry.index().length);
        System.arraycopy(entry.index(), 0, bytes, head.length, entry.index().length);
        CacheFiles.replace(layout, "referrers", file(route, subject, artifactType), bytes);
    }

    private Path file(Route route, Digest subject, Optional<String> artifactType) {
        return layout.referrersList(route, subject, artifactType);
    }

    private static int indexOf(byte[] bytes, byte wanted) {
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] == wanted) {
                return i;
            }
        }
        return -1;
    }
}
