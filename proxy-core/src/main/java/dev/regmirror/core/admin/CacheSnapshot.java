package dev.regmirror.core.admin;

import dev.regmirror.core.cache.CacheIndex;
import dev.regmirror.core.cache.RepositoryStore;
import dev.regmirror.core.cache.TagStore;
import dev.regmirror.core.manifest.Descriptor;
import dev.regmirror.core.manifest.Manifests;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.reference.RepositoryName;
import dev.regmirror.core.reference.Tag;
import dev.regmirror.core.storage.CacheStorage;
import dev.regmirror.core.storage.CachedManifests;
import dev.regmirror.core.upstream.Route;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What the cache holds, as purge and prune decide on it: each listed repository's tags and the
 * digest each resolved to, each cached manifest with the manifests and blobs it references, and
 * each committed blob (manifests included) with its size. Reading it walks the tag and manifest
 * files: call {@link #read} from the disk executor.
 *
 * @param repositories the repository list of {@code /v2/_catalog}, by name
 * @param tags         per repository, its tags and their digests
 * @param manifests    digests with a media-type file, and what each references (nothing when its
 *                     bytes are gone)
 * @param blobs        the committed blobs with their sizes
 * @param retained     the manifests and blobs hosted repositories link, which neither a purge nor
 *                     a prune removes
 */
record CacheSnapshot(Set<Route> repositories, Map<Route, Map<Tag, Digest>> tags,
                     Map<Digest, References> manifests, Map<Digest, Long> blobs, Set<Digest> retained) {

    /** What one manifest references: an index's entries, an image manifest's config and layers. */
    record References(List<Digest> children, List<Digest> blobs) {

        static final References NONE = new References(List.of(), List.of());

        static References of(byte[] manifest) {
            return new References(Manifests.indexEntries(manifest).stream().map(Descriptor::digest).toList(),
                    Manifests.blobsOf(manifest).stream().map(Descriptor::digest).toList());
        }
    }

    CacheSnapshot {
        repositories = Set.copyOf(repositories);
        tags = Map.copyOf(tags);
        manifests = Map.copyOf(manifests);
        blobs = Map.copyOf(blobs);
        retained = Set.copyOf(retained);
    }

    /** A cache with no hosted content. */
    CacheSnapshot(Set<Route> repositories, Map<Route, Map<Tag, Digest>> tags, Map<Digest, References> manifests,
                  Map<Digest, Long> blobs) {
        this(repositories, tags, manifests, blobs, Set.of());
    }

    /** This cache as it is once garbage collection has released those digests. */
    CacheSnapshot released(Set<Digest> digests) {
        Set<Digest> still = new java.util.HashSet<>(retained);
        still.removeAll(digests);
        return new CacheSnapshot(repositories, tags, manifests, blobs, still);
    }

    static CacheSnapshot read(CacheStorage storage) throws IOException {
        RepositoryStore repositoryStore = storage.repositories();
        TagStore tagStore = storage.tags();
        CachedManifests cached = storage.cachedManifests();
        CacheIndex index = storage.index();
        Set<Route> repositories = new TreeSet<>((a, b) -> a.toString().compareTo(b.toString()));
        Map<Route, Map<Tag, Digest>> tags = new LinkedHashMap<>();
        for (String name : repositoryStore.page(null, Integer.MAX_VALUE)) {
            Route route = route(name);
            repositories.add(route);
            Map<Tag, Digest> resolved = new TreeMap<>((a, b) -> a.value().compareTo(b.value()));
            for (Tag tag : tagStore.tags(route)) {
                Optional<TagStore.Resolution> resolution = tagStore.get(route, tag);
                resolution.ifPresent(r -> resolved.put(tag, r.digest()));
            }
            tags.put(route, resolved);
        }
        Map<Digest, References> manifests = new LinkedHashMap<>();
        for (Digest digest : cached.digests()) {
            manifests.put(digest, cached.bytes(digest).map(References::of).orElse(References.NONE));
        }
        Map<Digest, Long> blobs = new LinkedHashMap<>();
        for (CacheIndex.Entry entry : index.entries()) {
            blobs.put(entry.digest(), entry.size());
        }
        return new CacheSnapshot(repositories, tags, manifests, blobs, index.retainedDigests());
    }

    /** {@code docker.io/library/alpine} as the repository list names it. */
    static Route route(String name) {
        int slash = name.indexOf('/');
        return new Route(name.substring(0, slash), new RepositoryName(name.substring(slash + 1)));
    }

    /** The digest and every manifest reachable from it through index entries (the digests themselves too). */
    Set<Digest> closure(Iterable<Digest> roots) {
        Set<Digest> reached = new TreeSet<>((a, b) -> a.toString().compareTo(b.toString()));
        List<Digest> todo = new ArrayList<>();
        roots.forEach(todo::add);
        while (!todo.isEmpty()) {
            Digest next = todo.remove(todo.size() - 1);
            if (reached.add(next)) {
                todo.addAll(manifests.getOrDefault(next, References.NONE).children());
            }
        }
        return reached;
    }
}
