package dev.regmirror.core.storage;

import dev.regmirror.core.blob.BlobStore;
import dev.regmirror.core.blob.FileBlobStore;
import dev.regmirror.core.config.S3Settings;
import dev.regmirror.core.storage.s3.S3BlobStore;
import dev.regmirror.core.storage.s3.S3MetadataStore;
import dev.regmirror.core.storage.s3.S3Objects;
import dev.regmirror.core.blob.ManifestStore;
import dev.regmirror.core.cache.CacheIndex;
import dev.regmirror.core.cache.PullStore;
import dev.regmirror.core.cache.ReferrerStore;
import dev.regmirror.core.cache.RepositoryStore;
import dev.regmirror.core.cache.TagStore;
import dev.regmirror.core.hosted.HostedStore;
import dev.regmirror.core.reference.Digest;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Optional;

/**
 * The cache, opened once per process: its {@link CacheLayout} and the stores over it (blobs with
 * their index, manifests, tags, repositories, referrers lists, pull counts and, when hosting is on,
 * the hosted repositories), so that nothing else opens a store. Opening locks the directory, sweeps
 * {@code ingest/} and indexes the blobs; closing releases the lock. The content is on the local
 * file system ({@link #open}) or in an S3-compatible bucket ({@link #openS3}), where the local
 * directory only spools downloads. Storage I/O: open from start-up.
 */
public final class CacheStorage implements Closeable {

    private final CacheLayout layout;
    private final BlobStore blobs;
    private final Optional<FileBlobStore> files;
    private final java.io.Closeable lock;
    private final ManifestStore manifests;
    private final CachedManifests cachedManifests;
    private final TagStore tags;
    private final RepositoryStore repositories;
    private final ReferrerStore referrers;
    private final PullStore pulls;
    private final boolean holdsHosted;
    private final Optional<HostedStore> hosted;
    /** What this node and the others sharing its bucket tell each other; empty on a local disk. */
    private final Optional<StoreChanges> changes;

    private CacheStorage(CacheLayout layout, BlobStore blobs, Optional<FileBlobStore> files, java.io.Closeable lock,
                         ManifestStore manifests, TagStore tags, RepositoryStore repositories,
                         ReferrerStore referrers, PullStore pulls, boolean holdsHosted, Optional<HostedStore> hosted,
                         Optional<StoreChanges> changes) {
        this.changes = changes;
        this.layout = layout;
        this.blobs = blobs;
        this.files = files;
        this.lock = lock;
        this.manifests = manifests;
        this.cachedManifests = new CachedManifests(blobs, manifests);
        this.tags = tags;
        this.repositories = repositories;
        this.referrers = referrers;
        this.pulls = pulls;
        this.holdsHosted = holdsHosted;
        this.hosted = hosted;
    }

    /** Opens the cache in the directory, uncapped, with hosting off. */
    public static CacheStorage open(Path directory) throws IOException {
        return open(directory, 0, false, Clock.systemUTC());
    }

    /**
     * Opens the cache in the directory.
     *
     * @param maxBytes the cap on cached (not hosted) blobs, 0 for none; evicted past at once
     * @param hosting  whether hosted repositories are served. Hosted content found on disk is
     *                 retained from eviction even with hosting off, so that turning it off for a
     *                 while loses nothing: it is retained before the first eviction, which would
     *                 otherwise take hosted blobs for cached ones (the cap does not count them)
     * @param clock    the clock of pull counts and hosted links
     */
    public static CacheStorage open(Path directory, long maxBytes, boolean hosting, Clock clock) throws IOException {
        FileBlobStore blobs = FileBlobStore.openUnevicted(new CacheLayout(directory), maxBytes);
        try {
            CacheLayout layout = blobs.layout();
            ManifestStore manifests = new ManifestStore(blobs, layout);
            RepositoryStore repositories = RepositoryStore.open(layout);
            TagStore tags = new TagStore(layout);
            boolean holdsHosted = hosting || Files.isDirectory(layout.hosted());
            HostedStore hostedStore = holdsHosted ? HostedStore.open(layout, blobs.index(), clock) : null;
            blobs.evictOverCap();
            PullStore pulls = PullStore.open(layout, clock);
            ReferrerStore referrers = new ReferrerStore(layout);
            return new CacheStorage(layout, blobs, Optional.of(blobs), blobs, manifests, tags, repositories, referrers,
                    pulls, holdsHosted, hosting ? Optional.of(hostedStore) : Optional.empty(), Optional.empty());
        } catch (IOException | RuntimeException e) {
            blobs.close();
            throw e;
        }
    }

    /** As {@link #openS3(Path, S3Objects, S3Settings, long, boolean, java.util.concurrent.Executor, Clock)}, with hosting off. */
    public static CacheStorage openS3(Path directory, S3Objects objects, S3Settings s3, long maxBytes,
                                      java.util.concurrent.Executor uploads, Clock clock) throws IOException {
        return openS3(directory, objects, s3, maxBytes, false, uploads, clock);
    }

    /**
     * Opens the cache in the bucket, the directory spooling downloads and hosted uploads in
     * progress: blobs, manifest types, tags, repositories, referrers lists, pull counts and the
     * hosted repositories' links all live in the bucket, under the names they have on disk, so a
     * node started on a bucket another node filled serves what it holds. Nodes sharing the bucket
     * tell each other what they store and delete ({@link #exchangeChanges}).
     *
     * @param hosting as for {@link #open(Path, long, boolean, Clock)}: hosted links found in the
     *                bucket are retained from eviction even with hosting off
     * @param uploads where the parts of blobs being stored are sent
     */
    public static CacheStorage openS3(Path directory, S3Objects objects, S3Settings s3, long maxBytes, boolean hosting,
                                      java.util.concurrent.Executor uploads, Clock clock) throws IOException {
        CacheLayout layout = new CacheLayout(directory);
        java.io.Closeable lock = FileBlobStore.claimSpool(layout);
        try {
            S3MetadataStore bucket = new S3MetadataStore(objects, "");
            StoreChanges changes = new StoreChanges(bucket, layout, StoreChanges.randomNode(), clock);
            MetadataStore meta = changes.reporting(bucket);
            S3BlobStore blobs = S3BlobStore.open(objects, layout, maxBytes, s3.partSize(), uploads, clock,
                    s3.redirect() ? Optional.of(s3.redirectTtl()) : Optional.empty(), Optional.of(changes));
            boolean holdsHosted = hosting || !meta.list(layout.key(layout.hostedRepositories()) + "/").isEmpty();
            HostedStore hostedStore = holdsHosted ? HostedStore.open(layout, meta, blobs) : null;
            blobs.evictOverCap();
            return new CacheStorage(layout, blobs, Optional.empty(), lock, new ManifestStore(blobs, layout, meta),
                    new TagStore(layout, meta), RepositoryStore.open(layout, meta), new ReferrerStore(layout, meta),
                    PullStore.open(layout, meta, clock), holdsHosted,
                    hosting ? Optional.of(hostedStore) : Optional.empty(), Optional.of(changes));
        } catch (IOException | RuntimeException e) {
            lock.close();
            throw e;
        }
    }

    /** Where everything lies. */
    public CacheLayout layout() {
        return layout;
    }

    /** The blobs, manifests' bytes included. */
    public BlobStore blobs() {
        return blobs;
    }

    /** The blobs as files on this machine's disk; empty when they are in a bucket. */
    public Optional<FileBlobStore> files() {
        return files;
    }

    /** The index of committed blobs: sizes, recency, pins and what hosted repositories retain. */
    public CacheIndex index() {
        return blobs.index();
    }

    /** Cached manifests: their bytes in {@link #blobs()} and their media types. */
    public ManifestStore manifests() {
        return manifests;
    }

    /** The cached manifests as inventories read them, without marking them used. */
    public CachedManifests cachedManifests() {
        return cachedManifests;
    }

    /** What each tag last resolved to. */
    public TagStore tags() {
        return tags;
    }

    /** The repositories with a cached manifest, for the catalog. */
    public RepositoryStore repositories() {
        return repositories;
    }

    /** The last referrers list answered for each subject. */
    public ReferrerStore referrers() {
        return referrers;
    }

    /** How often each tag was pulled. */
    public PullStore pulls() {
        return pulls;
    }

    /** The hosted repositories, when hosting is on. */
    public Optional<HostedStore> hosted() {
        return hosted;
    }

    /**
     * Whether the index retains hosted content: hosting is on, or hosted content was found on disk
     * (kept while hosting is off).
     */
    public boolean holdsHosted() {
        return holdsHosted;
    }

    /**
     * Tells the other nodes sharing the bucket what this one changed since the last call, and
     * applies what they changed to what this node holds in memory: blobs they stored or deleted
     * in the index, tags they forgot, repositories they added or removed. Nothing on a local disk.
     * Storage I/O: call now and then (every second or so) from a storage thread.
     */
    public void exchangeChanges() throws IOException {
        if (changes.isEmpty() || !(blobs instanceof S3BlobStore bucket)) {
            return;
        }
        changes.get().publish();
        changes.get().poll(new StoreChanges.Listener() {
            @Override
            public void stored(Digest digest, long size) throws IOException {
                bucket.learnStored(digest);
            }

            @Override
            public void deleted(Digest digest) {
                bucket.learnDeleted(digest);
            }

            @Override
            public void hostedLinked(Digest digest) {
                // Hosted content is never evicted: another node's push is kept from this node's cap too.
                bucket.index().retain(digest);
            }

            @Override
            public void tagsForgotten() {
                tags.dropRemembered();
            }

            @Override
            public void repositoriesChanged() throws IOException {
                repositories.reload();
            }

            @Override
            public void resync() throws IOException {
                tags.dropRemembered();
                repositories.reload();
                bucket.relist();
            }
        });
    }

    /** Releases the directory for another process. */
    @Override
    public void close() throws IOException {
        lock.close();
    }
}
