package dev.regmirror.core.mirror;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.regmirror.core.error.UpstreamErrorException;
import dev.regmirror.core.manifest.ManifestBytes;
import dev.regmirror.core.manifest.Manifests;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.upstream.Route;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * Which cached digests each mirrored repository may be served when pull rules restrict who pulls
 * what: the cache is shared by digest, so without links a digest cached for one repository would be
 * served under any name its caller may pull. A digest is linked to a route when the route's upstream
 * gave or confirmed it for that route, or an image manifest served for the route names it as content
 * the upstream checked the repository holds ({@link Manifests#held}: its config and layers, not a
 * layer with {@code urls}, which a pusher may name without having it, nor an index's manifests,
 * which a registry with sparse indexes does not check); an unlinked one is served only once the route's
 * upstream answers a HEAD for it (then linked), or, when the upstream cannot answer, once the
 * {@link Fallback} finds the route reached it through its tags: never on the cache's word alone.
 * Links live in memory, bounded: an evicted or forgotten link costs one HEAD later.
 */
public final class DigestLinks {

    /** No rules: every caller may pull everything, so every cached digest is served under every name. */
    public static final DigestLinks OPEN = new DigestLinks(null, null, null);

    /** Where a digest the upstream could not confirm may still be found linked, from what the cache records. */
    public interface Fallback {

        /** None: what the upstream cannot confirm is refused. */
        Fallback NONE = (route, digest) -> CompletableFuture.completedFuture(false);

        /** Whether the route reached the digest through what the upstream gave it before (its tags). */
        CompletableFuture<Boolean> reaches(Route route, Digest digest);
    }

    /**
     * The value of a link made on its own, not by serving a manifest (whose value lists what it
     * linked); told apart by identity, so a list of its own.
     */
    private static final List<Link> PLAIN = Collections.unmodifiableList(new ArrayList<>());

    /**
     * A digest linked to a repository, kept as 128 bits of SHA-256 over both: about 90 bytes an
     * entry with Caffeine's, and no collision within anyone's reach.
     */
    private record Link(long high, long low) {

        static Link of(Route route, Digest digest) {
            MessageDigest sha256;
            try {
                sha256 = MessageDigest.getInstance("SHA-256");
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException("every JVM has SHA-256", e);
            }
            sha256.update((route + "@" + digest).getBytes(StandardCharsets.UTF_8));
            ByteBuffer hash = ByteBuffer.wrap(sha256.digest());
            return new Link(hash.getLong(), hash.getLong());
        }
    }

    /**
     * A link's value: for a manifest served for the route, the links of what it names (read once, put
     * back whenever it is served again, as eviction may have taken them); {@link #PLAIN} otherwise.
     */
    private final Cache<Link, List<Link>> links;
    private final MeterRegistry meters;
    private final Fallback fallback;
    private final InFlight<Link, Void> checks = new InFlight<>();
    /** The check counters by upstream and outcome: built and registered once, not per request. */
    private final Map<List<String>, Counter> counters = new ConcurrentHashMap<>();

    private DigestLinks(Cache<Link, List<Link>> links, MeterRegistry meters, Fallback fallback) {
        this.links = links;
        this.meters = meters;
        this.fallback = fallback;
    }

    /**
     * Links kept for mirrored repositories, at most {@code maximumLinks} of them, counting those a
     * manifest's link keeps of what it named (the least used go first).
     *
     * @param meters   where {@code regmirror.digest.link.checks} (by upstream and outcome) is counted
     * @param fallback asked when the upstream cannot confirm a digest (down, or refusing regmirror)
     */
    public static DigestLinks enforced(long maximumLinks, MeterRegistry meters, Fallback fallback) {
        // Weighed by the links an entry holds: a manifest's keeps what it named, so a manifest of
        // thousands of layers counts as thousands of links, not one.
        return new DigestLinks(Caffeine.newBuilder().maximumWeight(maximumLinks)
                .<Link, List<Link>>weigher((link, named) -> 1 + named.size()).build(), meters, fallback);
    }

    /** Drops one link, as the bound on links may at any time (for tests). */
    void evict(Route route, Digest digest) {
        links.invalidate(Link.of(route, digest));
    }

    /** Links without a fallback: what the upstream cannot confirm is refused. */
    public static DigestLinks enforced(long maximumLinks, MeterRegistry meters) {
        return enforced(maximumLinks, meters, Fallback.NONE);
    }

    /** Whether the digest may be served to the route from the cache without asking its upstream. */
    public boolean linked(Route route, Digest digest) {
        return links == null || route.hosted() || links.getIfPresent(Link.of(route, digest)) != null;
    }

    /** The route's upstream gave or confirmed the digest for the route. */
    public void link(Route route, Digest digest) {
        if (links != null) {
            links.asMap().putIfAbsent(Link.of(route, digest), PLAIN);
        }
    }

    /**
     * A manifest was served for the route: links it and what it names that the upstream checked the
     * repository holds ({@link Manifests#held}: an image's config and layers), so a pull by tag, then
     * its blobs, asks the upstream nothing more; an index's manifests are confirmed one by one when
     * asked for. The bytes are read once per route while the link lasts; what they named is linked
     * again at every serve.
     */
    public void linkManifest(Route route, ManifestBytes manifest) {
        if (links == null) {
            return;
        }
        Link own = Link.of(route, manifest.digest());
        List<Link> named = links.getIfPresent(own);
        if (named == null || named == PLAIN) {
            named = Manifests.held(manifest.bytes()).stream().map(held -> Link.of(route, held.digest())).toList();
        }
        for (Link link : named) {
            links.asMap().putIfAbsent(link, PLAIN);
        }
        links.put(own, named);
    }

    /**
     * Completes when the route may be served the cached digest: at once when it is linked; else once
     * {@code askUpstream} (a HEAD at the route's upstream, one at a time per route and digest) has
     * succeeded, which links it, or, when the HEAD failed otherwise than with the upstream's 404, once
     * the fallback finds the route reached it through its tags. Fails as the HEAD does: the
     * upstream's 404, or unavailable; the cache's word alone is never the answer for an unlinked digest.
     */
    CompletableFuture<Void> servable(Route route, Digest digest, Supplier<CompletableFuture<?>> askUpstream) {
        if (links == null || route.hosted()) {
            return CompletableFuture.completedFuture(null);
        }
        Link key = Link.of(route, digest);
        if (links.getIfPresent(key) != null) {
            return CompletableFuture.completedFuture(null);
        }
        return checks.join(key, () -> askUpstream.get()
                .whenComplete((answer, failure) -> count(route, outcome(failure)))
                .thenApply(answer -> {
                    links.asMap().putIfAbsent(key, PLAIN);
                    return (Void) null;
                }))
                .exceptionallyCompose(failure -> "failed".equals(outcome(failure))
                        ? fallback.reaches(route, digest).thenCompose(reached -> {
                            if (!reached) {
                                return CompletableFuture.failedFuture(failure);
                            }
                            links.asMap().putIfAbsent(key, PLAIN);
                            return CompletableFuture.completedFuture(null);
                        })
                        : CompletableFuture.failedFuture(failure));
    }

    private static String outcome(Throwable failure) {
        if (failure == null) {
            return "found";
        }
        return Futures.unwrap(failure) instanceof UpstreamErrorException error && error.isNotFound()
                ? "not_found" : "failed";
    }

    /**
     * Counts an upstream check of an unlinked digest: {@code found} (linked and served), {@code
     * not_found} (the upstream does not have it there), {@code failed} (it could not tell; refused).
     */
    private void count(Route route, String outcome) {
        counters.computeIfAbsent(List.of(route.registry(), outcome), labels -> Counter
                .builder("regmirror.digest.link.checks")
                .description("upstream checks of cached digests not linked to the repository asked for")
                .tags("upstream", labels.get(0), "outcome", labels.get(1)).register(meters)).increment();
    }
}
