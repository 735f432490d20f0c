package dev.regmirror.core.hosted;

import dev.regmirror.core.cache.CacheFiles;
import dev.regmirror.core.cache.CacheIndex;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.reference.RepositoryName;
import dev.regmirror.core.reference.Tag;
import dev.regmirror.core.storage.CacheLayout;
import dev.regmirror.core.upstream.Route;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.stream.Stream;

/**
 * What the hosted repositories hold, as links to the content-addressed store (in the manner of
 * distribution's {@code registry/storage/paths.go}), the owner of every path inside the hosted
 * areas that {@link CacheLayout} names ({@code hosted/repositories/} and {@code hosted/uploads/}):
 * <pre>
 * hosted/repositories/&lt;name&gt;/_tags/&lt;tag&gt;                  the digest the tag points at
 * hosted/repositories/&lt;name&gt;/_manifests/&lt;alg&gt;/&lt;hex&gt;    the manifest was pushed to the repository
 * hosted/repositories/&lt;name&gt;/_blobs/&lt;alg&gt;/&lt;hex&gt;        the blob was uploaded or mounted into it
 * hosted/repositories/&lt;name&gt;/_referrers/&lt;alg&gt;/&lt;hex&gt;/&lt;alg&gt;/&lt;hex&gt;
 *                                                      a manifest of the repository names the first as its subject
 * hosted/uploads/&lt;id&gt;/                                 an upload in progress
 * </pre>
 * Name components never start with {@code _}, so these cannot collide with a repository. The bytes
 * live in the {@code BlobStore} and manifest types in the {@code ManifestStore}; every linked
 * digest is retained in the {@link CacheIndex}, so no cap evicts it. Links are written synced
 * and renamed into place. Whatever writes links takes the read side of {@link #pushLock()}, which
 * garbage collection takes the write side of. Disk I/O: call from a disk executor.
 */
public final class HostedStore {

    private static final String TAGS = "_tags";
    private static final String MANIFESTS = "_manifests";
    private static final String BLOBS = "_blobs";
    private static final String REFERRERS = "_referrers";

    private final CacheLayout layout;
    private final Path repositories;
    private final Path uploads;
    private final CacheIndex index;
    /** Fair, so that garbage collection waiting for the write side is not starved by a stream of pushes. */
    private final ReentrantReadWriteLock pushLock = new ReentrantReadWriteLock(true);

    private final Clock clock;

    private HostedStore(CacheLayout layout, CacheIndex index, Clock clock) {
        this.clock = clock;
        this.layout = layout;
        this.repositories = layout.hostedRepositories();
        this.uploads = layout.hostedUploads();
        this.index = index;
    }

    /**
     * Opens the hosted area of the cache and retains every linked digest in the index; temporary
     * files are written in the cache's {@code ingest/} before they are renamed into place.
     */
    public static HostedStore open(CacheLayout layout, CacheIndex index) throws IOException {
        return open(layout, index, Clock.systemUTC());
    }

    /** As {@link #open(CacheLayout, CacheIndex)}, with the clock that times blob links. */
    public static HostedStore open(CacheLayout layout, CacheIndex index, Clock clock) throws IOException {
        HostedStore store = new HostedStore(layout, index, clock);
        Files.createDirectories(store.repositories);
        Files.createDirectories(store.uploads);
        store.linkedDigests().forEach(index::retain);
        return store;
    }

    /**
     * The lock over every repository's links: pushes, tags and deletes hold the read side while they
     * write links; garbage collection takes the write side to see links that do not change under it.
     */
    public ReentrantReadWriteLock pushLock() {
        return pushLock;
    }

    /** Records that a manifest of the repository names {@code subject} as its subject (which need not exist). */
    public void linkReferrer(Route route, Digest subject, Digest referrer) throws IOException {
        Path link = referrerLink(route, subject, referrer);
        if (!Files.exists(link)) {
            writeAtomically(link, "");
        }
    }

    /** Forgets that {@code referrer} refers to {@code subject}; whether it was recorded. */
    public boolean unlinkReferrer(Route route, Digest subject, Digest referrer) throws IOException {
        return Files.deleteIfExists(referrerLink(route, subject, referrer));
    }

    /** The manifests of the repository recorded as referring to {@code subject}. */
    public List<Digest> referrers(Route route, Digest subject) throws IOException {
        return digests(inside(repositories, repository(route).resolve(REFERRERS).resolve(subject.algorithm())
                .resolve(subject.hex())));
    }

    /** The directory uploads in progress live under; {@link #upload} names each one's. */
    public Path uploads() {
        return uploads;
    }

    /** The directory of one upload in progress. */
    public Path upload(UploadId id) {
        return inside(uploads, uploads.resolve(id.value()));
    }

    /** The digest a tag of a hosted repository points at, if the tag exists. */
    public Optional<Digest> tag(Route route, Tag tag) throws IOException {
        try {
            return Optional.of(Digest.parse(Files.readString(tagFile(route, tag), StandardCharsets.UTF_8).trim()));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    /** When the tag was last pushed; empty when it does not exist. */
    public Optional<Instant> taggedAt(Route route, Tag tag) throws IOException {
        try {
            return Optional.of(Files.getLastModifiedTime(tagFile(route, tag)).toInstant());
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    /** Points a tag at a manifest already linked into the repository. */
    public void tag(Route route, Tag tag, Digest digest) throws IOException {
        writeAtomically(tagFile(route, tag), digest.toString());
    }

    /** Removes a tag; whether it existed. */
    public boolean untag(Route route, Tag tag) throws IOException {
        return Files.deleteIfExists(tagFile(route, tag));
    }

    /** The repository's tags in lexical order. */
    public List<Tag> tags(Route route) throws IOException {
        List<Tag> tags = new ArrayList<>();
        for (String name : list(repository(route).resolve(TAGS))) {
            try {
                tags.add(new Tag(name));
            } catch (RuntimeException notATag) {
                // not written by this store
            }
        }
        tags.sort(Comparator.comparing(Tag::value));
        return tags;
    }

    /** Whether the manifest was pushed to this repository (and not deleted from it). */
    public boolean hasManifest(Route route, Digest digest) {
        return Files.isRegularFile(link(route, MANIFESTS, digest));
    }

    /** Records that the manifest, already stored, belongs to the repository; retains it. */
    public void linkManifest(Route route, Digest digest) throws IOException {
        index.retain(digest);
        writeAtomically(link(route, MANIFESTS, digest), "");
    }

    /** Takes a manifest out of the repository (its bytes stay until garbage collection); whether it was in. */
    public boolean unlinkManifest(Route route, Digest digest) throws IOException {
        return Files.deleteIfExists(link(route, MANIFESTS, digest));
    }

    /** The manifests of the repository. */
    public List<Digest> manifests(Route route) throws IOException {
        return digests(repository(route).resolve(MANIFESTS));
    }

    /** Whether the blob was uploaded or mounted into this repository, or a manifest pushed to it names it. */
    public boolean hasBlob(Route route, Digest digest) {
        return Files.isRegularFile(link(route, BLOBS, digest));
    }

    /**
     * Records that the blob, already stored, may be read from the repository; retains it. Linking
     * it again renews the link's time, so garbage collection gives a manifest still to come the
     * whole upload timeout from the last upload or mount of each of its blobs.
     */
    public void linkBlob(Route route, Digest digest) throws IOException {
        index.retain(digest);
        Path link = link(route, BLOBS, digest);
        if (!Files.exists(link)) {
            writeAtomically(link, "");
        }
        Files.setLastModifiedTime(link, FileTime.from(clock.instant()));
    }

    /** When the blob was last uploaded or mounted into the repository; empty when it is not linked. */
    public Optional<Instant> blobLinkedAt(Route route, Digest digest) throws IOException {
        try {
            return Optional.of(Files.getLastModifiedTime(link(route, BLOBS, digest)).toInstant());
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    /**
     * Whether the blob is linked into the repository and its bytes are in the store: what a
     * manifest pushed there may name (a link whose bytes a crash or an eviction took does not count).
     */
    public boolean holds(Route route, Digest digest) {
        return hasBlob(route, digest) && index.contains(digest);
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
        for (RepositoryName name : repositories()) {
            Route route = Route.hosted(registry, name);
            if (hasBlob(route, digest)) {
                found.add(route);
            }
        }
        return found;
    }

    /** Takes a blob out of the repository; whether it was in. */
    public boolean unlinkBlob(Route route, Digest digest) throws IOException {
        return Files.deleteIfExists(link(route, BLOBS, digest));
    }

    /** The blobs linked into the repository. */
    public List<Digest> blobs(Route route) throws IOException {
        return digests(repository(route).resolve(BLOBS));
    }

    /** Every hosted repository (one with a tag, manifest or blob), by name, in lexical order. */
    public List<RepositoryName> repositories() throws IOException {
        List<RepositoryName> found = new ArrayList<>();
        try (Stream<Path> paths = Files.walk(repositories)) {
            for (Path path : (Iterable<Path>) paths::iterator) {
                String last = path.getFileName().toString();
                if ((last.equals(TAGS) || last.equals(MANIFESTS) || last.equals(BLOBS)) && Files.isDirectory(path)) {
                    try {
                        RepositoryName name = new RepositoryName(repositories.relativize(path.getParent()).toString()
                                .replace(path.getFileSystem().getSeparator(), "/"));
                        if (!found.contains(name)) {
                            found.add(name);
                        }
                    } catch (RuntimeException notAName) {
                        // not written by this store
                    }
                }
            }
        }
        found.sort(Comparator.comparing(RepositoryName::value));
        return found;
    }

    /** Every digest any hosted repository links (manifests and blobs): what garbage collection keeps. */
    public Set<Digest> linkedDigests() throws IOException {
        Set<Digest> linked = new HashSet<>();
        try (Stream<Path> paths = Files.walk(repositories)) {
            for (Path path : (Iterable<Path>) paths::iterator) {
                Path parent = path.getParent();
                Path grandParent = parent == null ? null : parent.getParent();
                if (grandParent != null && Files.isRegularFile(path)
                        && (grandParent.getFileName().toString().equals(MANIFESTS)
                        || grandParent.getFileName().toString().equals(BLOBS))) {
                    try {
                        linked.add(new Digest(parent.getFileName().toString(), path.getFileName().toString()));
                    } catch (RuntimeException notADigest) {
                        // not written by this store
                    }
                }
            }
        }
        return linked;
    }

    private List<Digest> digests(Path directory) throws IOException {
        List<Digest> found = new ArrayList<>();
        for (String algorithm : list(directory)) {
            for (String hex : list(directory.resolve(algorithm))) {
                try {
                    found.add(new Digest(algorithm, hex));
                } catch (RuntimeException notADigest) {
                    // not written by this store
                }
            }
        }
        return found;
    }

    private static List<String> list(Path directory) throws IOException {
        if (!Files.isDirectory(directory)) {
            return List.of();
        }
        List<String> names = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(directory)) {
            entries.forEach(entry -> names.add(entry.getFileName().toString()));
        }
        return names;
    }

    private Path repository(Route route) {
        if (!route.hosted()) {
            throw new IllegalArgumentException(route + " is not a hosted repository");
        }
        return inside(repositories, repositories.resolve(route.name().value()));
    }

    private Path tagFile(Route route, Tag tag) {
        return inside(repositories, repository(route).resolve(TAGS).resolve(tag.value()));
    }

    private Path referrerLink(Route route, Digest subject, Digest referrer) {
        return inside(repositories, repository(route).resolve(REFERRERS).resolve(subject.algorithm())
                .resolve(subject.hex()).resolve(referrer.algorithm()).resolve(referrer.hex()));
    }

    private Path link(Route route, String kind, Digest digest) {
        return inside(repositories, repository(route).resolve(kind).resolve(digest.algorithm()).resolve(digest.hex()));
    }

    /** A path built from request input, checked to stay where it belongs. */
    private static Path inside(Path root, Path path) {
        Path normal = path.normalize();
        if (!normal.startsWith(root) || normal.equals(root)) {
            throw new IllegalArgumentException(path + " escapes " + root);
        }
        return normal;
    }

    /** Writes a small file: synced to a scratch file, then renamed into place. */
    private void writeAtomically(Path target, String content) throws IOException {
        CacheFiles.replace(layout, "hosted", target, content.getBytes(StandardCharsets.UTF_8));
    }
}
