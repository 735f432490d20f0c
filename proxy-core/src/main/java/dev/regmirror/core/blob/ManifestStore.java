package dev.regmirror.core.blob;

import dev.regmirror.core.manifest.ManifestBytes;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.storage.CacheLayout;
import dev.regmirror.core.storage.FileMetadataStore;
import dev.regmirror.core.storage.MetadataStore;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Cached manifests: their bytes live in the {@link BlobStore} under their digest like any content;
 * the media type they were served with is kept beside, in {@code manifests/<algorithm>/<hex>} of
 * the cache's {@link MetadataStore}. A manifest counts as cached only when both are there; the
 * type is written atomically, so a power cut never leaves an empty one. Storage I/O: call from a
 * disk executor.
 */
public final class ManifestStore {

    private final BlobStore blobs;
    private final CacheLayout layout;
    private final MetadataStore meta;

    /** Media types in files under the cache directory. */
    public ManifestStore(BlobStore blobs, CacheLayout layout) throws IOException {
        this(blobs, layout, new FileMetadataStore(layout));
    }

    /** Media types in {@code meta}, under the layout's names. */
    public ManifestStore(BlobStore blobs, CacheLayout layout, MetadataStore meta) {
        this.blobs = blobs;
        this.layout = layout;
        this.meta = meta;
    }

    /** The cached manifest with this digest, if both its bytes and its media type are present. */
    public Optional<ManifestBytes> get(Digest digest) throws IOException {
        Optional<byte[]> type = meta.read(typeKey(digest));
        if (type.isEmpty()) {
            return Optional.empty();
        }
        String mediaType = new String(type.get(), StandardCharsets.UTF_8).trim();
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
        if (!hasType(manifest.digest())) {
            writeType(manifest);
        }
    }

    /** Writes the media type beside the bytes, atomically. */
    private void writeType(ManifestBytes manifest) throws IOException {
        meta.write(typeKey(manifest.digest()), manifest.mediaType().getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Forgets the media type, so the manifest no longer counts as cached; its bytes are a blob the
     * caller removes from the blob store. Returns whether there was one.
     */
    public boolean forget(Digest digest) throws IOException {
        boolean had = hasType(digest);
        meta.delete(typeKey(digest));
        return had;
    }

    /** Whether the media type of a manifest with this digest is kept (its bytes are a blob, looked up apart). */
    public boolean hasType(Digest digest) throws IOException {
        return meta.read(typeKey(digest)).isPresent();
    }

    /** Every digest with a media-type file, whether or not its bytes are still there; unknown names are skipped. */
    public List<Digest> digests() throws IOException {
        List<Digest> digests = new ArrayList<>();
        String prefix = layout.key(layout.manifestTypes()) + "/";
        for (String key : meta.list(prefix)) {
            String[] parts = key.substring(prefix.length()).split("/");
            if (parts.length != 2) {
                continue;
            }
            try {
                digests.add(Digest.parse(parts[0] + ":" + parts[1]));
            } catch (RuntimeException notADigest) {
                // not written by this store: skip it
            }
        }
        return digests;
    }

    private String typeKey(Digest digest) {
        return layout.key(layout.manifestType(digest));
    }
}
