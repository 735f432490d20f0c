package dev.regmirror.core.mirror;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.upstream.Route;
import java.util.concurrent.CompletableFuture;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Keeps hosted content from being read through a mirrored name: the store is shared, so a digest
 * a hosted repository holds would otherwise be served by digest to anyone who may pull any
 * mirrored repository. A mirrored request for such a digest is served from the store only once
 * the route's upstream has said it has that digest too (a HEAD, remembered per registry), exactly
 * as if the cache did not hold it; the seed workflow (pulled, then pushed) passes at once.
 */
public final class HostedDigests {

    /** Nothing is hosted: every stored digest is served to mirrored names as before. */
    public static final HostedDigests NONE = new HostedDigests(digest -> false);

    private static final int REMEMBERED = 100_000;

    private final Predicate<Digest> hosted;
    private final Cache<String, Boolean> confirmed = Caffeine.newBuilder().maximumSize(REMEMBERED).build();

    /** @param hosted whether a hosted repository links the digest (the cache index's retained set) */
    public HostedDigests(Predicate<Digest> hosted) {
        this.hosted = hosted;
    }

    /**
     * Completes when a mirrored route may be served the stored digest: at once unless it is
     * hosted content its upstream has not confirmed; else after {@code askUpstream} succeeds, with
     * its failure (the upstream's 404, or 503) otherwise.
     */
    CompletableFuture<Void> servable(Route route, Digest digest, Supplier<CompletableFuture<?>> askUpstream) {
        if (route.hosted() || !hosted.test(digest)) {
            return CompletableFuture.completedFuture(null);
        }
        String key = route.registry() + "@" + digest;
        if (confirmed.getIfPresent(key) != null) {
            return CompletableFuture.completedFuture(null);
        }
        return askUpstream.get().thenAccept(answer -> confirmed.put(key, Boolean.TRUE));
    }
}
