package dev.regmirror.core.storage;

import dev.regmirror.core.blob.BlobStore;
import dev.regmirror.core.blob.ManifestStore;
import dev.regmirror.core.reference.Digest;
import java.io.IOException;
import java.util.List;
import java.util.Optional;

/**
 * The manifests in the cache, as inventories (purge, prune, usage, the image catalog) read them:
 * the digests that have a media-type file (listed by the {@link ManifestStore}), and their bytes,
 * read without marking them as used (an inventory must not reorder eviction). Storage I/O: call
 * from the disk executor.
 */
public final class CachedManifests {

    private final BlobStore store;
    private final ManifestStore types;

    CachedManifests(BlobStore store, ManifestStore types) {
        this.store = store;
        this.types = types;
    }

    /** Every digest with a media-type file; its bytes may have been evicted since. */
    public List<Digest> digests() throws IOException {
        return types.digests();
    }

    /** The manifest's bytes, if they are still cached. */
    public Optional<byte[]> bytes(Digest digest) throws IOException {
        return store.peek(digest);
    }
}
