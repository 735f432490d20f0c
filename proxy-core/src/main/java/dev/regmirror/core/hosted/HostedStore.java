package dev.regmirror.core.hosted;

import dev.regmirror.core.blob.BlobStore;
import dev.regmirror.core.cache.CacheIndex;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.reference.RepositoryName;
import dev.regmirror.core.reference.Tag;
import dev.regmirror.core.storage.CacheLayout;
import dev.regmirror.core.storage.CacheLayout.HostedEntry;
import dev.regmirror.core.storage.CacheLayout.HostedKind;
import dev.regmirror.core.storage.FileMetadataStore;
import dev.regmirror.core.storage.MetadataStore;
import dev.regmirror.core.upstream.Route;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * What the hosted repositories hold, as links to the content-addressed store (in the manner of
 * distribution's {@code registry/storage/paths.go}): tags, and which manifests, blobs and referrers
 * each repository has, each a small object of the cache's {@link MetadataStore} (files on disk, or
 * objects in the bucket, so that every node on a bucket sees every push) under the names
 * {@link CacheLayout} gives them. A tag holds its digest and was written when it was pushed; the
 * other links are empty, a blob link written again each time the blob is uploaded or mounted. The bytes live in the {@code BlobStore} and manifest types in the {@code ManifestStore}; every
 * linked digest is retained in the {@link CacheIndex}, so no cap evicts it. Uploads in progress
 * stay on this machine, under {@code hosted/uploads/}. Whatever writes links takes the read side of
 * {@link #pushLock()}, which garbage collection takes the write side of. Storage I/O: call from a
 * disk executor.
 */
public final class HostedStore {

    /** Whether a blob's bytes are in the store, for a push that names it. */
    @FunctionalInterface
    private interface Presence {
        boolean stored(Digest digest) throws IOException;
    }

    private final CacheLayout layout;
    private final MetadataStore meta;
    private final CacheIndex index;
    private final Presence presence;
    /** Fair, so that garbage collection waiting for the write side is not starved by a stream of pushes. */
    private final ReentrantReadWriteLock pushLock = new ReentrantReadWriteLock(true);

    private HostedStore(CacheLayout layout, MetadataStore meta, CacheIndex index, Presence presence) {
        this.layout = layout;
        this.meta = meta;
        this.index = index;
        this.presence = presence;
    }

    /**
     * Opens the hosted area of the cache on disk and retains every linked digest in the index;
     * temporary files are written in the cache's {@code ingest/} before they are renamed into place.
     */
    public static HostedStore open(CacheLayout layout, CacheIndex index) throws IOException {
        return open(layout, index, Clock.systemUTC());
    }

    /** As {@link #open(CacheLayout, CacheIndex)}, with the clock that times blob links and tags (their files' times). */
    public static HostedStore open(CacheLayout layout, CacheIndex index, Clock clock) throws IOException {
        Files.createDirectories(layout.hostedRepositories());
        return open(new HostedStore(layout, new FileMetadataStore(layout, clock), index, index::contains));
    }

    /**
     * Opens the hosted repositories whose links are in {@code meta} and whose bytes are in
     * {@code blobs} (a bucket another node may write to as well), retaining every linked digest in
     * the blobs' index. Links are timed as the store records writes (an object's
     * {@code Last-Modified}: the store's clock).
     */
    public static HostedStore open(CacheLayout layout, MetadataStore meta, BlobStore blobs) throws IOException {
        return open(new HostedStore(layout, meta, blobs.index(), digest -> blobs.find(digest).isPresent()));
    }

    private static HostedStore open(HostedStore store) throws IOException {
        Files.createDirectories(store.layout.hostedUploads());
        store.retainLinked();
        return store;
    }

    /**
     * The lock over every repository's links: pushes, tags and deletes hold the read side while they
     * write links; garbage collection takes the write side to see links that do not change under it.
     */
    public ReentrantReadWriteLock pushLock() {
        return pushLock;
    }

    /**
     * Retains every digest a hosted repository links, as the store has them now: those another node
     * on the same bucket linked since this one opened too. Purges and prunes call it first.
     */
    public void retainLinked() throws IOException {
        linkedDigests().forEach(index::retain);
    }

    /** Records that a manifest of the repository names {@code subject} as its subject (which need not exist). */
    public void linkReferrer(Route route, Digest subject, Digest referrer) throws IOException {
        String key = key(layout.hostedReferrer(route, subject, referrer));
        if (meta.read(key).isEmpty()) {
            meta.write(key, new byte[0]);
        }
    }

    /** Forgets that {@code referrer} refers to {@code subject}; whether it was recorded. */
    public boolean unlinkReferrer(Route route, Digest subject, Digest referrer) throws IOException {
        return remove(key(layout.hostedReferrer(route, subject, referrer)));
    }

    /** The manifests of the repository recorded as referring to {@code subject}. */
    public List<Digest> referrers(Route route, Digest subject) throws IOException {
        List<Digest> found = new ArrayList<>();
        for (HostedEntry entry : entries(layout.hostedReferrers(route, subject))) {
            if (entry.rest().size() == 4) {
                digest(entry.rest().get(2), entry.rest().get(3)).ifPresent(found::add);
            }
        }
        return found;
    }

    /** The directory uploads in progress live under, on this machine; {@link #upload} names each one's. */
    public Path uploads() {
        return layout.hostedUploads();
    }

    /** The directory of one upload in progress. */
    public Path upload(UploadId id) {
        Path uploads = layout.hostedUploads();
        Path directory = uploads.resolve(id.value()).normalize();
        if (!directory.startsWith(uploads) || directory.equals(uploads)) {
            throw new IllegalArgumentException("upload " + id + " escapes " + uploads);
        }
        return directory;
    }

    /** The digest a tag of a hosted repository points at, if the tag exists. */
    public Optional<Digest> tag(Route route, Tag tag) throws IOException {
        Optional<byte[]> bytes = meta.read(key(layout.hostedTag(route, tag)));
        return bytes.map(b -> Digest.parse(new String(b, StandardCharsets.UTF_8).trim()));
    }

    /** When the tag was last pushed; empty when it does not exist. */
    public Optional<Instant> taggedAt(Route route, Tag tag) throws IOException {
        return meta.lastModified(key(layout.hostedTag(route, tag)));
    }

    /** Points a tag at a manifest already linked into the repository. */
    public void tag(Route route, Tag tag, Digest digest) throws IOException {
        meta.write(key(layout.hostedTag(route, tag)), digest.toString().getBytes(StandardCharsets.UTF_8));
    }

    /** Removes a tag; whether it existed. */
    public boolean untag(Route route, Tag tag) throws IOException {
        return remove(key(layout.hostedTag(route, tag)));
    }

    /** The repository's tags in lexical order. */
    public List<Tag> tags(Route route) throws IOException {
        List<Tag> tags = new ArrayList<>();
        for (HostedEntry entry : entries(layout.hostedLinks(route, HostedKind.TAGS))) {
            if (entry.rest().size() != 1) {
                continue;
            }
            try {
                tags.add(new Tag(entry.rest().get(0)));
            } catch (RuntimeException notATag) {
                // not written by this store
            }
        }
        tags.sort(Comparator.comparing(Tag::value));
        return tags;
    }

    /**
     * Whether the manifest was pushed to this repository (and not deleted from it). A linked digest
     * is retained here from now on, when another node linked it since this one opened.
     */
    public boolean hasManifest(Route route, Digest digest) throws IOException {
        return linked(key(layout.hostedLink(route, HostedKind.MANIFESTS, digest)), digest);
    }

    /** Records that the manifest, already stored, belongs to the repository; retains it. */
    public void linkManifest(Route route, Digest digest) throws IOException {
        index.retain(digest);
        String key = key(layout.hostedLink(route, HostedKind.MANIFESTS, digest));
        if (meta.read(key).isEmpty()) {
            meta.write(key, new byte[0]);
        }
    }

    /** Takes a manifest out of the repository (its bytes stay until garbage collection); whether it was in. */
    public boolean unlinkManifest(Route route, Digest digest) throws IOException {
        return remove(key(layout.hostedLink(route, HostedKind.MANIFESTS, digest)));
    }

    /** The manifests of the repository. */
    public List<Digest> manifests(Route route) throws IOException {
        return digests(layout.hostedLinks(route, HostedKind.MANIFESTS));
    }

    /**
     * Whether the blob was uploaded or mounted into this repository, or a manifest pushed to it names
     * it. A linked digest is retained here from now on, when another node linked it since this one opened.
     */
    public boolean hasBlob(Route route, Digest digest) throws IOException {
        return linked(key(layout.hostedLink(route, HostedKind.BLOBS, digest)), digest);
    }

    /**
     * Records that the blob, already stored, may be read from the repository; retains it. Linking
     * it again renews the link's time, so garbage collection gives a manifest still to come the
     * whole upload timeout from the last upload or mount of each of its blobs.
     */
    public void linkBlob(Route route, Digest digest) throws IOException {
        index.retain(digest);
        meta.write(key(layout.hostedLink(route, HostedKind.BLOBS, digest)), new byte[0]);
    }

    /** When the blob was last uploaded or mounted into the repository; empty when it is not linked. */
    public Optional<Instant> blobLinkedAt(Route route, Digest digest) throws IOException {
        return meta.lastModified(key(layout.hostedLink(route, HostedKind.BLOBS, digest)));
    }

    /**
     * Whether the blob is linked into the repository and its bytes are in the store: what a
     * manifest pushed there may name (a link whose bytes a crash or an eviction took does not count).
     */
    public boolean holds(Route route, Digest digest) throws IOException {
        return hasBlob(route, digest) && stored(digest);
    }

    /**
     * Whether the blob's bytes are in the store. In a bucket, one another node stored since this
     * one opened is indexed here as it is found, so that a prune here can delete it.
     */
    public boolean stored(Digest digest) throws IOException {
        return presence.stored(digest);
    }

    /** Whether some hosted repository links (or a push in progress retains) the digest. */
    public boolean isHosted(Digest digest) {
        return index.retained(digest);
    }

    /**
     * Keeps a digest from eviction before its bytes are stored and linked, so that no eviction
     * chosen meanwhile takes it (a manifest pushed again that the cache already held).
     */
    public void retain(Digest digest) {
        index.retain(digest);
    }

    /** The hosted repositories (named under {@code registry}) that link the blob, in lexical order. */
    public List<Route> linking(String registry, Digest digest) throws IOException {
        List<Route> found = new ArrayList<>();
        for (HostedEntry entry : entries(layout.hostedRepositories())) {
            if (entry.kind() == HostedKind.BLOBS && entry.rest().equals(List.of(digest.algorithm(), digest.hex()))) {
                repository(entry).map(name -> Route.hosted(registry, name)).ifPresent(found::add);
            }
        }
        found.sort(Comparator.comparing(route -> route.name().value()));
        return found;
    }

    /** Takes a blob out of the repository; whether it was in. */
    public boolean unlinkBlob(Route route, Digest digest) throws IOException {
        return remove(key(layout.hostedLink(route, HostedKind.BLOBS, digest)));
    }

    /** The blobs linked into the repository. */
    public List<Digest> blobs(Route route) throws IOException {
        return digests(layout.hostedLinks(route, HostedKind.BLOBS));
    }

    /** Every hosted repository (one with a tag, manifest or blob), by name, in lexical order. */
    public List<RepositoryName> repositories() throws IOException {
        Set<RepositoryName> found = new HashSet<>();
        for (HostedEntry entry : entries(layout.hostedRepositories())) {
            if (entry.kind() != HostedKind.REFERRERS) {
                repository(entry).ifPresent(found::add);
            }
        }
        List<RepositoryName> sorted = new ArrayList<>(found);
        sorted.sort(Comparator.comparing(RepositoryName::value));
        return sorted;
    }

    /** Every digest any hosted repository links (manifests and blobs): what garbage collection keeps. */
    public Set<Digest> linkedDigests() throws IOException {
        Set<Digest> linked = new HashSet<>();
        for (HostedEntry entry : entries(layout.hostedRepositories())) {
            if ((entry.kind() == HostedKind.MANIFESTS || entry.kind() == HostedKind.BLOBS) && entry.rest().size() == 2) {
                digest(entry.rest().get(0), entry.rest().get(1)).ifPresent(linked::add);
            }
        }
        return linked;
    }

    private boolean linked(String key, Digest digest) throws IOException {
        if (meta.read(key).isEmpty()) {
            return false;
        }
        index.retain(digest);
        return true;
    }

    private boolean remove(String key) throws IOException {
        if (meta.read(key).isEmpty()) {
            return false;
        }
        meta.delete(key);
        return true;
    }

    /** The digests of {@code <alg>/<hex>} links under a repository's directory of one kind. */
    private List<Digest> digests(Path links) throws IOException {
        List<Digest> found = new ArrayList<>();
        for (HostedEntry entry : entries(links)) {
            if (entry.rest().size() == 2) {
                digest(entry.rest().get(0), entry.rest().get(1)).ifPresent(found::add);
            }
        }
        return found;
    }

    /** Every link under the directory, read back; keys not named by the layout are skipped. */
    private List<HostedEntry> entries(Path under) throws IOException {
        String area = key(layout.hostedRepositories()) + "/";
        List<HostedEntry> entries = new ArrayList<>();
        for (String key : meta.list(key(under) + "/")) {
            CacheLayout.hostedEntry(key.substring(area.length())).ifPresent(entries::add);
        }
        return entries;
    }

    private static Optional<RepositoryName> repository(HostedEntry entry) {
        try {
            return Optional.of(new RepositoryName(entry.repository()));
        } catch (RuntimeException notAName) {
            return Optional.empty(); // not written by this store
        }
    }

    private static Optional<Digest> digest(String algorithm, String hex) {
        try {
            return Optional.of(new Digest(algorithm, hex));
        } catch (RuntimeException notADigest) {
            return Optional.empty(); // not written by this store
        }
    }

    private String key(Path path) {
        return layout.key(path);
    }
}
