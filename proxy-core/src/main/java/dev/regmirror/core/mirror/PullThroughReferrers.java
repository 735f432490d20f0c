package dev.regmirror.core.mirror;

import dev.regmirror.core.cache.ReferrerStore;
import dev.regmirror.core.client.UpstreamReferrers;
import dev.regmirror.core.manifest.Descriptor;
import dev.regmirror.core.manifest.Manifests;
import dev.regmirror.core.manifest.MediaTypes;
import dev.regmirror.core.manifest.ReferrerIndexes;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.upstream.Route;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.function.Function;

/**
 * Answers the referrers of a mirrored image from the upstream (its referrers API, else its tag of
 * the referrers tag schema, else an empty list), cached like a tag: a list fetched within the
 * upstream's tag window ({@link TagPolicy#tagTtl()}) is answered from the {@link ReferrerStore};
 * after it, the upstream is asked again (one request at a time per subject and filter), and when
 * it is unreachable, failing or rate-limited, the last list is served stale. An {@code artifactType}
 * the upstream did not apply is applied here.
 */
public final class PullThroughReferrers {

    private record Key(Route route, Digest subject, Optional<String> artifactType) {
    }

    private final RegistryClients clients;
    private final ReferrerStore store;
    private final Function<String, TagPolicy> policies;
    private final Executor diskExecutor;
    private final Clock clock;
    private final MeterRegistry meters;
    private final DigestLinks links;
    private final InFlight<Key, ReferrersAnswer> asking = new InFlight<>();

    public PullThroughReferrers(RegistryClients clients, ReferrerStore store, Function<String, TagPolicy> policies,
                                Executor diskExecutor, Clock clock, MeterRegistry meters) {
        this(clients, store, policies, diskExecutor, clock, meters, DigestLinks.OPEN);
    }

    /**
     * @param links under pull rules, where the manifests a list served for a name names are linked to
     *              it: the upstream listed them in that repository, so a client that reads the list,
     *              then the signatures it names, is served them from the cache with the upstream down too
     */
    public PullThroughReferrers(RegistryClients clients, ReferrerStore store, Function<String, TagPolicy> policies,
                                Executor diskExecutor, Clock clock, MeterRegistry meters, DigestLinks links) {
        this.links = links;
        this.clients = clients;
        this.store = store;
        this.policies = policies;
        this.diskExecutor = diskExecutor;
        this.clock = clock;
        this.meters = meters;
    }

    /** The manifests referring to {@code subject} in the route's repository, of {@code artifactType} where given. */
    public CompletableFuture<ReferrersAnswer> list(Route route, Digest subject, Optional<String> artifactType) {
        Duration window = policies.apply(route.registry()).tagTtl();
        return Futures.supplyOn(diskExecutor, () -> store.get(route, subject, artifactType)).thenCompose(known -> {
            if (known.isPresent() && Duration.between(known.get().fetchedAt(), clock.instant()).compareTo(window) < 0) {
                count(route, "cached");
                return CompletableFuture.completedFuture(answer(route, known.get(), Optional.empty()));
            }
            return asking.join(new Key(route, subject, artifactType), () -> ask(route, subject, artifactType, known));
        });
    }

    private CompletableFuture<ReferrersAnswer> ask(Route route, Digest subject, Optional<String> artifactType,
                                                   Optional<ReferrerStore.Entry> known) {
        return clients.forRegistry(route.registry()).listReferrers(route.name(), subject, artifactType)
                .thenCompose(upstream -> {
                    ReferrerStore.Entry entry = entryOf(upstream, artifactType);
                    return Futures.supplyOn(diskExecutor, () -> {
                        store.put(route, subject, artifactType, entry);
                        return entry;
                    });
                })
                .handle((entry, failure) -> {
                    if (failure == null) {
                        count(route, entry.source().name().toLowerCase(Locale.ROOT));
                        return answer(route, entry, Optional.empty());
                    }
                    Throwable cause = Futures.unwrap(failure);
                    if (known.isPresent() && PullThroughManifests.upstreamTrouble(cause)) {
                        count(route, "stale");
                        return answer(route, known.get(), Optional.of(cause.getMessage()));
                    }
                    throw cause instanceof RuntimeException runtime ? runtime : new CompletionException(cause);
                });
    }

    /** The list to store and answer: the upstream's bytes, filtered here where it did not filter. */
    private ReferrerStore.Entry entryOf(UpstreamReferrers upstream, Optional<String> artifactType) {
        byte[] index;
        String mediaType = MediaTypes.OCI_INDEX;
        boolean filtered;
        ReferrerStore.Source source;
        if (upstream instanceof UpstreamReferrers.Listed listed) {
            source = ReferrerStore.Source.UPSTREAM;
            index = listed.index();
            filtered = listed.filtered();
            if (!listed.mediaType().isBlank() && !listed.mediaType().matches(".*\\s.*")) {
                mediaType = listed.mediaType();
            }
        } else if (upstream instanceof UpstreamReferrers.Tagged tagged && MediaTypes.OCI_INDEX.equals(
                tagged.index().mediaType())) {
            source = ReferrerStore.Source.FALLBACK;
            index = tagged.index().bytes();
            filtered = false;
        } else {
            source = ReferrerStore.Source.EMPTY;
            index = ReferrerIndexes.empty();
            filtered = artifactType.isPresent();
        }
        if (artifactType.isPresent() && !filtered) {
            Optional<byte[]> kept = ReferrerIndexes.filter(index, artifactType.get());
            if (kept.isPresent()) {
                index = kept.get();
                filtered = true;
            }
        }
        return new ReferrerStore.Entry(index, mediaType, filtered, source, clock.instant());
    }

    /**
     * The answer for the route. The manifests a referrers API listed are linked to it: the registry
     * found them in that repository. Not those of a tag-schema index, which a pusher wrote and a
     * registry with sparse indexes does not check.
     */
    private ReferrersAnswer answer(Route route, ReferrerStore.Entry entry, Optional<String> staleBecause) {
        if (entry.source() == ReferrerStore.Source.UPSTREAM) {
            for (Descriptor listed : Manifests.indexEntries(entry.index())) {
                links.link(route, listed.digest());
            }
        }
        return new ReferrersAnswer(entry.index(), entry.mediaType(), entry.filtered(), staleBecause);
    }

    /**
     * Counts a referrers request by where its answer came from: {@code upstream} (the referrers API),
     * {@code fallback} (the tag schema), {@code empty} (neither), {@code cached} (within the window),
     * {@code stale} (the upstream could not answer).
     */
    private void count(Route route, String result) {
        Counter.builder("regmirror.referrers.requests").description("referrers lists by where the answer came from")
                .tags("upstream", route.registry(), "result", result).register(meters).increment();
    }
}
