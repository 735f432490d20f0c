package dev.regmirror.core.admin;

import dev.regmirror.core.hosted.HostedGc;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.reference.Tag;
import dev.regmirror.core.upstream.Route;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * What a purge or a prune removes from a {@link CacheSnapshot}, decided without touching the disk:
 * the tags to forget, the manifests no remaining tag reaches, the blobs no remaining manifest
 * references, the blobs kept because a remaining manifest still does, and the repositories left
 * with no tags.
 */
public record RemovalPlan(List<TagRef> tags, List<Item> manifests, List<Item> blobs, List<Item> kept, List<Route> repositories,
                   List<HostedGc.Link> hostedLinks) {

    /** A tag of a repository. */
    public record TagRef(Route route, Tag tag) {
        @Override
        public String toString() {
            return route + ":" + tag;
        }
    }

    /** A manifest or blob with its size in the cache (0 when only its media-type file is left). */
    public record Item(Digest digest, long size) {
    }

    private static final Comparator<Digest> BY_NAME = Comparator.comparing(Digest::toString);

    public RemovalPlan {
        tags = List.copyOf(tags);
        manifests = List.copyOf(manifests);
        blobs = List.copyOf(blobs);
        kept = List.copyOf(kept);
        repositories = List.copyOf(repositories);
        hostedLinks = List.copyOf(hostedLinks);
    }

    RemovalPlan(List<TagRef> tags, List<Item> manifests, List<Item> blobs, List<Item> kept, List<Route> repositories) {
        this(tags, manifests, blobs, kept, repositories, List.of());
    }

    /** This plan, with the hosted blob links garbage collection removes before it. */
    RemovalPlan withHostedLinks(List<HostedGc.Link> links) {
        return new RemovalPlan(tags, manifests, blobs, kept, repositories, links);
    }

    /** The bytes the manifests and blobs it removes take. */
    public long bytesFreed() {
        return manifests.stream().mapToLong(Item::size).sum() + blobs.stream().mapToLong(Item::size).sum();
    }

    /**
     * The purge of the selection; empty when it names an image, digest or repository the cache
     * does not hold (a registry or everything always matches, possibly nothing).
     */
    static Optional<RemovalPlan> purge(CacheSnapshot cache, PurgeSelection selection) {
        Set<TagRef> selected = new LinkedHashSet<>();
        Set<Digest> roots = new LinkedHashSet<>();
        Set<Route> scope = new LinkedHashSet<>();
        boolean forceRepositories = true;
        if (selection instanceof PurgeSelection.OneTag one) {
            Digest digest = cache.tags().getOrDefault(one.route(), Map.of()).get(one.tag());
            if (digest == null) {
                return Optional.empty();
            }
            selected.add(new TagRef(one.route(), one.tag()));
            roots.add(digest);
            scope.add(one.route());
            forceRepositories = false;
        } else if (selection instanceof PurgeSelection.OneManifest one) {
            if (one.tag().isPresent()
                    && !one.digest().equals(cache.tags().getOrDefault(one.route(), Map.of()).get(one.tag().get()))) {
                return Optional.empty(); // name:tag@digest where the tag points elsewhere (or nowhere)
            }
            cache.tags().getOrDefault(one.route(), Map.of()).forEach((tag, digest) -> {
                if (digest.equals(one.digest())) {
                    selected.add(new TagRef(one.route(), tag));
                }
            });
            if (selected.isEmpty() && !cache.manifests().containsKey(one.digest())) {
                return Optional.empty();
            }
            roots.add(one.digest());
            scope.add(one.route());
            forceRepositories = false;
        } else if (selection instanceof PurgeSelection.Repository repository) {
            if (!cache.repositories().contains(repository.route()) && !cache.tags().containsKey(repository.route())) {
                return Optional.empty();
            }
            scope.add(repository.route());
        } else if (selection instanceof PurgeSelection.Upstream upstream) {
            cache.repositories().stream().filter(route -> route.registry().equals(upstream.registry()))
                    .forEach(scope::add);
        } else {
            scope.addAll(cache.repositories());
        }
        if (forceRepositories) {
            for (Route route : scope) {
                cache.tags().getOrDefault(route, Map.of()).forEach((tag, digest) -> {
                    selected.add(new TagRef(route, tag));
                    roots.add(digest);
                });
            }
        }
        Set<Digest> candidates = new HashSet<>();
        if (selection instanceof PurgeSelection.Everything) {
            candidates.addAll(cache.manifests().keySet());
        } else {
            Set<Digest> reachable = cache.closure(remainingTagDigests(cache, selected));
            for (Digest digest : cache.closure(roots)) {
                if (cache.manifests().containsKey(digest) && !reachable.contains(digest)) {
                    candidates.add(digest);
                }
            }
        }
        candidates.removeAll(cache.retained());
        Set<Digest> referencedByCandidates = new HashSet<>();
        candidates.forEach(digest -> referencedByCandidates.addAll(cache.manifests().get(digest).blobs()));
        if (selection instanceof PurgeSelection.Everything) {
            referencedByCandidates.addAll(cache.blobs().keySet());
        }
        Set<Digest> stillReferenced = referencedByRemaining(cache, candidates);
        List<Item> blobs = new ArrayList<>();
        List<Item> kept = new ArrayList<>();
        for (Digest digest : sorted(referencedByCandidates)) {
            Long size = cache.blobs().get(digest);
            if (size == null || candidates.contains(digest)) {
                continue;
            }
            boolean keep = stillReferenced.contains(digest) || cache.retained().contains(digest);
            (keep ? kept : blobs).add(new Item(digest, size));
        }
        List<Route> repositories = new ArrayList<>();
        for (Route route : scope) {
            boolean listed = cache.repositories().contains(route);
            boolean emptied = selected.containsAll(tagRefs(cache, route));
            if (listed && (forceRepositories || emptied)) {
                repositories.add(route);
            }
        }
        return Optional.of(new RemovalPlan(new ArrayList<>(selected), items(cache, candidates), blobs, kept, repositories));
    }

    /**
     * The prune: manifests no tag reaches (directly or as an entry of a tagged index), and blobs no
     * remaining manifest references. Tags and repositories stay, and whatever a hosted repository
     * links (a purge keeps that too).
     */
    static RemovalPlan prune(CacheSnapshot cache) {
        Set<Digest> tagged = cache.closure(remainingTagDigests(cache, Set.of()));
        Set<Digest> candidates = new HashSet<>(cache.manifests().keySet());
        candidates.removeAll(tagged);
        candidates.removeAll(cache.retained());
        Set<Digest> stillReferenced = referencedByRemaining(cache, candidates);
        List<Item> blobs = new ArrayList<>();
        for (Digest digest : sorted(cache.blobs().keySet())) {
            if (!candidates.contains(digest) && !stillReferenced.contains(digest) && !cache.retained().contains(digest)) {
                blobs.add(new Item(digest, cache.blobs().get(digest)));
            }
        }
        return new RemovalPlan(List.of(), items(cache, candidates), blobs, List.of(), List.of());
    }

    private static List<Digest> remainingTagDigests(CacheSnapshot cache, Set<TagRef> removed) {
        List<Digest> digests = new ArrayList<>();
        cache.tags().forEach((route, tags) -> tags.forEach((tag, digest) -> {
            if (!removed.contains(new TagRef(route, tag))) {
                digests.add(digest);
            }
        }));
        return digests;
    }

    /** The manifests that stay (their own bytes) and the config and layers they reference. */
    private static Set<Digest> referencedByRemaining(CacheSnapshot cache, Set<Digest> removedManifests) {
        Set<Digest> referenced = new HashSet<>();
        cache.manifests().forEach((digest, references) -> {
            if (!removedManifests.contains(digest)) {
                referenced.add(digest);
                referenced.addAll(references.blobs());
            }
        });
        return referenced;
    }

    private static Set<TagRef> tagRefs(CacheSnapshot cache, Route route) {
        Set<TagRef> refs = new HashSet<>();
        cache.tags().getOrDefault(route, Map.of()).keySet().forEach(tag -> refs.add(new TagRef(route, tag)));
        return refs;
    }

    private static List<Item> items(CacheSnapshot cache, Set<Digest> digests) {
        return sorted(digests).stream().map(digest -> new Item(digest, cache.blobs().getOrDefault(digest, 0L))).toList();
    }

    private static List<Digest> sorted(Set<Digest> digests) {
        return digests.stream().sorted(BY_NAME).toList();
    }
}
