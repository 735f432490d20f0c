package dev.regmirror.core.storage.s3;

import dev.regmirror.core.storage.MetadataStore;
import java.io.IOException;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * {@link MetadataStore} in the bucket: one object per key (under the configured prefix), written
 * with one PUT, which S3 makes visible whole. A failing store comes out as {@link IOException}, as
 * a failing disk does.
 */
public final class S3MetadataStore implements MetadataStore {

    private static final String CONTENT_TYPE = "application/octet-stream";

    private final S3Objects objects;
    private final String base;

    /** @param base the prefix, inside the bucket's prefix, of every key of this store ("" or ending in '/') */
    public S3MetadataStore(S3Objects objects, String base) {
        if (!base.isEmpty() && !base.endsWith("/")) {
            throw new IllegalArgumentException("base must be empty or end in '/'");
        }
        this.objects = objects;
        this.base = base;
    }

    @Override
    public Optional<byte[]> read(String key) throws IOException {
        try {
            return objects.read(base + MetadataStore.checkKey(key));
        } catch (S3StoreException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    @Override
    public void write(String key, byte[] bytes) throws IOException {
        try {
            objects.write(base + MetadataStore.checkKey(key), bytes, CONTENT_TYPE);
        } catch (S3StoreException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    @Override
    public void delete(String key) throws IOException {
        try {
            objects.delete(base + MetadataStore.checkKey(key));
        } catch (S3StoreException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    @Override
    public Optional<Instant> lastModified(String key) throws IOException {
        try {
            return objects.head(base + MetadataStore.checkKey(key)).map(S3Objects.ObjectInfo::lastModified);
        } catch (S3StoreException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    @Override
    public List<String> list(String prefix) throws IOException {
        try {
            return objects.list(base + prefix).stream().map(info -> info.key().substring(base.length())).sorted().toList();
        } catch (S3StoreException e) {
            throw new IOException(e.getMessage(), e);
        }
    }
}
