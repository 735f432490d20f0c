package dev.regmirror.core.blob;

import dev.regmirror.core.cache.CacheFiles;
import dev.regmirror.core.manifest.ManifestBytes;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.storage.CacheLayout;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Cached manifests: their bytes live in the {@link BlobStore} under their digest like any content;
 * the media type they were served with is kept beside, in {@code manifests/<algorithm>/<hex>}. A
 * manifest counts as cached only when both are there; the type is synced before it is renamed into
 * place, so a power cut never leaves an empty one. Disk I/O: call from a disk executor.
 */
public final class ManifestStore {

    private final BlobStore blobs;
    private final CacheLayout layout;
    private final Path types;

    public ManifestStore(BlobStore blobs, CacheLayout layout) throws IOException {
        this.blobs = blobs;
        this.layout = layout;
        this.types = layout.manifestTypes();
        Files.createDirectories(types);
        Files.createDirectories(layout.ingest());
    }

    /** The cached manifest with this digest, if both its bytes and its media type are present. */
    public Optional<ManifestBytes> get(Digest digest) throws IOException {
        String mediaType;
        try {
            mediaType = Files.readString(typePath(digest), StandardCharsets.UTF_8).trim();
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
        return blobs.readAll(digest).map(bytes -> new ManifestBytes(mediaType, digest, bytes));
    }

    /** Caches a manifest whose digest was already verified. */
    public void put(ManifestBytes manifest) throws IOException {
        blobs.put(manifest.digest(), manifest.bytes());
        writeType(manifest);
    }

    /**
     * Caches a manifest whose digest was already verified, keeping the media type of one already
     * cached under that digest: an import does not relabel what a pull stored. A race with a
     * concurrent {@link #put} of the same digest leaves one of the two complete type files.
     */
    public void add(ManifestBytes manifest) throws IOException {
        blobs.put(manifest.digest(), manifest.bytes());
        if (!Files.exists(typePath(manifest.digest()))) {
            writeType(manifest);
        }
    }

    /** Writes the media type beside the bytes: synced to a scratch file, then renamed into place. */
    private void writeType(ManifestBytes manifest) throws IOException {
        CacheFiles.replace(layout, "type", typePath(manifest.digest()),
                manifest.mediaType().getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Forgets the media type, so the manifest no longer counts as cached; its bytes are a blob the
     * caller removes from the blob store. Returns whether there was one.
     */
    public boolean forget(Digest digest) throws IOException {
        return Files.deleteIfExists(typePath(digest));
    }

    /** Whether the media type of a manifest with this digest is kept (its bytes are a blob, looked up apart). */
    public boolean hasType(Digest digest) {
        return Files.isRegularFile(typePath(digest));
    }

    /** Every digest with a media-type file, whether or not its bytes are still there; unknown names are skipped. */
    public List<Digest> digests() throws IOException {
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
                            // not written by this store: skip it
                        }
                    }
                }
            }
        }
        return digests;
    }

    private Path typePath(Digest digest) {
        return layout.manifestType(digest);
    }
}
