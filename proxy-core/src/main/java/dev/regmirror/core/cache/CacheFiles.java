package dev.regmirror.core.cache;

import dev.regmirror.core.storage.CacheLayout;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

/**
 * The file work the small stores share: files replaced atomically and synced, through a scratch
 * file in the cache's {@code ingest/}, so that after a crash a file holds either its old or its new
 * content; the paths are {@link CacheLayout}'s. Disk I/O: call from a disk executor.
 */
public final class CacheFiles {

    private CacheFiles() {
    }

    /**
     * Writes {@code bytes} to a new file in {@code scratch}, syncs it, renames it over {@code target}
     * and syncs the directory, so the rename too survives a power cut: the one way regmirror writes
     * its small files (tags, referrers, manifest types, hosted links).
     */
    public static void replace(CacheLayout layout, String prefix, Path target, byte[] bytes) throws IOException {
        Files.createDirectories(target.getParent());
        Path temp = layout.scratchFile(prefix);
        try {
            try (FileChannel out = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ByteBuffer buffer = ByteBuffer.wrap(bytes);
                while (buffer.hasRemaining()) {
                    out.write(buffer);
                }
                out.force(true);
            }
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
            syncDirectory(target.getParent());
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    /** Syncs a directory's entries; a file system that cannot is left as it is (the files were synced). */
    private static void syncDirectory(Path directory) {
        try (FileChannel dir = FileChannel.open(directory, StandardOpenOption.READ)) {
            dir.force(true);
        } catch (IOException cannot) {
            // Some file systems cannot sync a directory.
        }
    }

    /** The file's bytes, empty if there is no such file. */
    static Optional<byte[]> read(Path file) throws IOException {
        try {
            return Optional.of(Files.readAllBytes(file));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }
}
