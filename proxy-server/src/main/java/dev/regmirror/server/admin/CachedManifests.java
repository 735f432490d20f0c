package dev.regmirror.server.admin;

import dev.regmirror.core.blob.FileBlobStore;
import dev.regmirror.core.reference.Digest;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The manifests in the cache, as the admin API reads them: the digests that have a media-type file
 * under {@code manifests/<algorithm>/<hex>}, and their bytes, read without marking them as used (an
 * inventory must not reorder eviction). Disk I/O: call from the disk executor.
 */
final class CachedManifests {

    private final FileBlobStore store;
    private final Path types;

    CachedManifests(FileBlobStore store) {
        this.store = store;
        this.types = store.root().resolve("manifests");
    }

    /** Every digest with a media-type file; its bytes may have been evicted since. */
    List<Digest> digests() throws IOException {
        List<Digest> digests = new ArrayList<>();
        if (!Files.isDirectory(types)) {
            return digests;
        }
        try (DirectoryStream<Path> algorithms = Files.newDirectoryStream(types)) {
            for (Path algorithm : algorithms) {
                if (!Files.isDirectory(algorithm)) {
                    continue;
                }
                try (DirectoryStream<Path> files = Files.newDirectoryStream(algorithm)) {
                    for (Path file : files) {
                        try {
                            digests.add(Digest.parse(algorithm.getFileName() + ":" + file.getFileName()));
                        } catch (RuntimeException notADigest) {
                            // not written by the manifest store: skip it
                        }
                    }
                }
            }
        }
        return digests;
    }

    /** The manifest's bytes, if they are still cached. */
    Optional<byte[]> bytes(Digest digest) throws IOException {
        try {
            return Optional.of(Files.readAllBytes(store.pathOf(digest)));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }
}
