package dev.regmirror.core.mirror;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.regmirror.core.error.UpstreamErrorException;
import dev.regmirror.core.manifest.Descriptor;
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
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * Which cached digests each mirrored repository may be served when pull rules restrict who pulls
 * what: the cache is shared by digest, so without links a digest cached for one repository would be
 * served under any name its caller may pull. A digest is linked to a route when the route's upstream
 * gave or confirmed it for that route, or a manifest served for the route names it; an unlinked one
 * is served only once the route's upstream answers a HEAD for it (then linked), never from the cache
 * on the cache's word alone. Links live in memory, bounded: an evicted or forgotten link costs one
 * HEAD later.
 */
public final class DigestLinks {

    /** No rules: every caller may pull everything, so every cached digest is served under every name. */
    public static final DigestLinks OPEN = new DigestLinks(null, null);

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

    /** A link's value: {@code true} once a manifest's descriptors are linked too (read once, not per request). */
    private final Cache<Link, Boolean> links;
    private final MeterRegistry meters;
    private final InFlight<Link, Void> checks = new InFlight<>();
    /** The check counters by upstream and outcome: built and registered once, not per request. */
    private final Map<List<String>, Counter> counters = new ConcurrentHashMap<>();

    private DigestLinks(Cache<Link, Boolean> links, MeterRegistry meters) {
        this.links = links;
        this.meters = meters;
    }

    /**
     * Links kept for mirrored repositories, at most {@code maximumLinks} of them (the least used go
     * first).
     *
     * @param meters where {@code regmirror.digest.link.checks} (by upstream and outcome) is counted
     */
    public static DigestLinks enforced(long maximumLinks, MeterRegistry meters) {
        return new DigestLinks(Caffeine.newBuilder().maximumSize(maximumLinks).build(), meters);
    }

    /** Whether the digest may be served to the route from the cache without asking its upstream. */
    public boolean linked(Route route, Digest digest) {
        return links == null || route.hosted() || links.getIfPresent(Link.of(route, digest)) != null;
    }

    /** The route's upstream gave or confirmed the digest for the route. */
    public void link(Route route, Digest digest) {
        if (links != null) {
            links.asMap().putIfAbsent(Link.of(route, digest), Boolean.FALSE);
        }
    }

    /**
     * A manifest was served for the route: links it and what it names (an image's config and layers,
     * an index's manifests), so a pull by tag, then its blobs, asks the upstream nothing more. The
     * bytes are read once per route while the link lasts.
     */
    public void linkManifest(Route route, ManifestBytes manifest) {
        if (links == null) {
            return;
        }
        Link own = Link.of(route, manifest.digest());
        if (Boolean.TRUE.equals(links.getIfPresent(own))) {
            return;
        }
        for (Descriptor named : Manifests.referenced(manifest.bytes())) {
            link(route, named.digest());
        }
        links.put(own, Boolean.TRUE);
    }

    /**
     * Completes when the route may be served the cached digest: at once when it is linked; else once
     * {@code askUpstream} (a HEAD at the route's upstream, one at a time per route and digest) has
     * succeeded, which links it. Fails as the HEAD does: the upstream's 404, or unavailable; the
     * cache is never the answer for an unlinked digest.
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
                    links.asMap().putIfAbsent(key, Boolean.FALSE);
                    return (Void) null;
                }));
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
