package dev.regmirror.core.mirror;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.regmirror.core.blob.ManifestStore;
import dev.regmirror.core.cache.RepositoryStore;
import dev.regmirror.core.cache.TagStore;
import dev.regmirror.core.client.ManifestHead;
import dev.regmirror.core.client.RegistryClient;
import dev.regmirror.core.cluster.ManifestOwners;
import dev.regmirror.core.cluster.PeerManifest;
import dev.regmirror.core.error.UpstreamErrorException;
import dev.regmirror.core.error.UpstreamUnavailableException;
import dev.regmirror.core.manifest.AcceptNegotiation;
import dev.regmirror.core.manifest.ManifestBytes;
import dev.regmirror.core.manifest.Manifests;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.reference.Reference;
import dev.regmirror.core.reference.Tag;
import dev.regmirror.core.upstream.Route;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers manifest requests from the cache where it can and from the upstream where it must. A
 * digest once cached is never asked for again. A tag resolved within its upstream's TTL is answered
 * from the cache; after that one HEAD at a time revalidates it. When the upstream is unreachable,
 * failing, rate-limited or nearly out of pulls, a tag that was ever cached is served stale. Upstream
 * "not found" answers are remembered briefly. In a cluster, a tag (and a manifest by digest) the
 * cache cannot answer is asked of its owner, so only the owner revalidates it with the upstream.
 */
public final class PullThroughManifests {

    private static final Logger LOG = LoggerFactory.getLogger(PullThroughManifests.class);

    private record TagKey(Route route, Tag tag) {
    }

    private record DigestKey(Route route, Digest digest) {
    }

    private final RegistryClients clients;
    private final ManifestStore store;
    private final TagStore tags;
    private final RepositoryStore repositories;
    private final Function<String, TagPolicy> policies;
    private final Executor diskExecutor;
    private final Clock clock;
    private final MeterRegistry meters;
    private final HostedDigests hostedDigests;
    private final DigestLinks links;
    private final ManifestOwners owners;
    /**
     * Revalidations and fetches that ask the upstream (this node owns them, or their owner could not
     * be asked): at most one per tag or digest at a time on this node, whoever asked.
     */
    private final InFlight<TagKey, ManifestAnswer> revalidations = new InFlight<>();
    private final InFlight<DigestKey, ManifestBytes> fetches = new InFlight<>();
    /**
     * Those that ask another node, apart: two nodes briefly disagreeing on the owner, each asking the
     * other, then wait on their own flights, never on each other's (which would wait until a timeout).
     */
    private final InFlight<TagKey, ManifestAnswer> askingOwner = new InFlight<>();
    private final InFlight<DigestKey, ManifestBytes> fetchingFromOwner = new InFlight<>();
    private final NotFoundCache notFound;
    private final RecentManifests recent;
    /** The lookup counters by upstream and result: built and registered once, not per request. */
    private final Map<List<String>, Counter> counters = new ConcurrentHashMap<>();

    public PullThroughManifests(RegistryClients clients, ManifestStore store, TagStore tags,
                                RepositoryStore repositories, Function<String, TagPolicy> policies,
                                Executor diskExecutor, Clock clock, MeterRegistry meters) {
        this(clients, store, tags, repositories, policies, diskExecutor, clock, meters, HostedDigests.NONE);
    }

    /** @param hostedDigests which stored digests a mirrored name gets only once its upstream confirms them */
    public PullThroughManifests(RegistryClients clients, ManifestStore store, TagStore tags,
                                RepositoryStore repositories, Function<String, TagPolicy> policies,
                                Executor diskExecutor, Clock clock, MeterRegistry meters, HostedDigests hostedDigests) {
        this(clients, store, tags, repositories, policies, diskExecutor, clock, meters, hostedDigests,
                RecentManifests.none());
    }

    /**
     * @param recent the manifests kept in memory: a cached manifest found there (and a tag within
     *               its TTL that points to one) is answered at once, without the disk executor
     */
    public PullThroughManifests(RegistryClients clients, ManifestStore store, TagStore tags,
                                RepositoryStore repositories, Function<String, TagPolicy> policies,
                                Executor diskExecutor, Clock clock, MeterRegistry meters, HostedDigests hostedDigests,
                                RecentManifests recent) {
        this(clients, store, tags, repositories, policies, diskExecutor, clock, meters, hostedDigests, DigestLinks.OPEN,
                recent, ManifestOwners.NONE);
    }

    /**
     * @param links  which digests each mirrored name may be served without asking its upstream
     *               first; a manifest served for a name links what it names to that name
     * @param owners which node revalidates a tag or fetches a manifest: this one, or its owner in a cluster
     */
    public PullThroughManifests(RegistryClients clients, ManifestStore store, TagStore tags,
                                RepositoryStore repositories, Function<String, TagPolicy> policies,
                                Executor diskExecutor, Clock clock, MeterRegistry meters, HostedDigests hostedDigests,
                                DigestLinks links, RecentManifests recent, ManifestOwners owners) {
        this.links = links;
        this.owners = owners;
        this.recent = recent;
        this.hostedDigests = hostedDigests;
        this.clients = clients;
        this.store = store;
        this.tags = tags;
        this.repositories = repositories;
        this.policies = policies;
        this.diskExecutor = diskExecutor;
        this.clock = clock;
        this.meters = meters;
        Ticker ticker = () -> clock.millis() * 1_000_000L;
        this.notFound = new NotFoundCache(ticker);
    }

    /**
     * The manifest to answer with, after content negotiation against the client's Accept. A digest
     * not linked to the name is asked of its upstream first ({@link DigestLinks}); what is answered
     * links what it names.
     */
    public CompletableFuture<ManifestAnswer> get(Route route, Reference reference, AcceptNegotiation accept) {
        CompletableFuture<Void> linked = reference instanceof Digest digest ? linked(route, digest)
                : CompletableFuture.completedFuture(null);
        return linked.thenCompose(ignored -> resolve(route, reference, owners)).thenCompose(answer -> {
            links.linkManifest(route, answer.manifest());
            AcceptNegotiation.Decision decision = accept.decide(answer.manifest(), reference instanceof Tag);
            if (decision instanceof AcceptNegotiation.Decision.ServeChild child) {
                return linked(route, child.digest()).thenCompose(ignored -> byDigest(route, child.digest(), owners))
                        .thenApply(chosen -> {
                            accept.checkChild(chosen);
                            links.linkManifest(route, chosen);
                            return answer.with(chosen);
                        });
            }
            return CompletableFuture.completedFuture(answer);
        });
    }

    /**
     * Completes once the name may be served the digest: linked to it, or confirmed by its upstream's
     * HEAD, or, when the upstream cannot answer, reached through its tags ({@link DigestLinks}). The
     * upstream's "not found" is remembered as a fetch's is.
     */
    private CompletableFuture<Void> linked(Route route, Digest digest) {
        if (links.linked(route, digest)) {
            return CompletableFuture.completedFuture(null);
        }
        DigestKey key = new DigestKey(route, digest);
        Optional<UpstreamErrorException> miss = notFound.recall(key);
        if (miss.isPresent()) {
            return CompletableFuture.failedFuture(miss.get());
        }
        return links.servable(route, digest, () -> clients.forRegistry(route.registry())
                .headManifest(route.name(), digest).whenComplete((head, failure) -> rememberNotFound(key, failure)));
    }

    private void rememberNotFound(DigestKey key, Throwable failure) {
        Throwable cause = failure == null ? null : Futures.unwrap(failure);
        if (cause instanceof UpstreamErrorException error && error.isNotFound()) {
            notFound.remember(key, error, policies.apply(key.route().registry()).notFoundTtl());
        }
    }

    /**
     * The manifest another node asks this one for as the owner of the tag (or digest): resolved as
     * for a client of this node but never passed on to another node, without content negotiation
     * (the asking node negotiates with its client), and, for a tag, when it was last resolved.
     */
    public CompletableFuture<PeerManifest> getAsOwner(Route route, Reference reference) {
        return resolve(route, reference, ManifestOwners.NONE).thenApply(answer -> {
            Optional<Instant> resolvedAt = reference instanceof Tag tag && answer.staleBecause().isEmpty()
                    ? tags.known(route, tag).filter(known -> known.digest().equals(answer.manifest().digest()))
                            .map(TagStore.Resolution::resolvedAt)
                    : Optional.empty();
            return new PeerManifest(answer.manifest(), answer.staleBecause(), resolvedAt);
        });
    }

    private CompletableFuture<ManifestAnswer> resolve(Route route, Reference reference, ManifestOwners owners) {
        if (reference instanceof Digest digest) {
            return byDigest(route, digest, owners).thenApply(ManifestAnswer::fresh);
        }
        Tag tag = (Tag) reference;
        TagPolicy policy = policies.apply(route.registry());
        // A tag within its TTL whose manifest is in memory: answered here, no disk, no hand-off.
        Optional<TagStore.Resolution> remembered = tags.known(route, tag);
        if (remembered.isPresent() && age(remembered.get()).compareTo(policy.tagTtl()) < 0) {
            Optional<ManifestBytes> inMemory = recent.get(remembered.get().digest());
            if (inMemory.isPresent()) {
                count(route, "hit");
                return CompletableFuture.completedFuture(ManifestAnswer.fresh(inMemory.get()));
            }
        }
        return Futures.supplyOn(diskExecutor, () -> {
            Optional<TagStore.Resolution> known = knownTag(route, tag);
            if (known.isPresent() && age(known.get()).compareTo(policy.tagTtl()) < 0) {
                Optional<ManifestAnswer> hit = cached(route, known.get().digest()).map(ManifestAnswer::fresh);
                hit.ifPresent(answer -> count(route, "hit"));
                return hit;
            }
            return Optional.<ManifestAnswer>empty();
        }).thenCompose(withinTtl -> withinTtl.isPresent()
                ? CompletableFuture.completedFuture(withinTtl.get())
                : owners.ownedElsewhere(route, tag)
                        ? askingOwner.join(new TagKey(route, tag), () -> askOwner(route, tag, policy, owners))
                        : revalidations.join(new TagKey(route, tag), () -> revalidate(route, tag, policy, owners)));
    }

    /**
     * Asks the tag's owner what it points to now; when the owner cannot be asked, revalidates it
     * here (joining a revalidation already running here). The owner's "not found" is remembered here
     * too.
     */
    private CompletableFuture<ManifestAnswer> askOwner(Route route, Tag tag, TagPolicy policy, ManifestOwners owners) {
        TagKey key = new TagKey(route, tag);
        Optional<UpstreamErrorException> miss = notFound.recall(key);
        if (miss.isPresent()) {
            return CompletableFuture.failedFuture(miss.get());
        }
        return owners.fetch(route, tag)
                .whenComplete((owned, failure) -> {
                    if (failure != null && Futures.unwrap(failure) instanceof UpstreamErrorException error
                            && error.isNotFound()) {
                        notFound.remember(key, error, policy.notFoundTtl());
                    }
                })
                .thenCompose(owned -> owned.isPresent()
                        ? CompletableFuture.completedFuture(fromOwner(route, tag, owned.get()))
                        : revalidations.join(key, () -> revalidate(route, tag, policy, owners)));
    }

    /** Asks the upstream what the tag points to now; falls back to the cached answer when it cannot tell. */
    private CompletableFuture<ManifestAnswer> revalidate(Route route, Tag tag, TagPolicy policy, ManifestOwners owners) {
        TagKey key = new TagKey(route, tag);
        Optional<UpstreamErrorException> miss = notFound.recall(key);
        if (miss.isPresent()) {
            return CompletableFuture.failedFuture(miss.get());
        }
        RegistryClient client = clients.forRegistry(route.registry());
        return client.headManifest(route.name(), tag)
                .thenCompose(head -> current(route, tag, head, policy, owners))
                .handle((answer, failure) -> {
                    if (failure == null) {
                        return CompletableFuture.completedFuture(answer);
                    }
                    Throwable cause = Futures.unwrap(failure);
                    if (cause instanceof UpstreamErrorException error && error.isNotFound()) {
                        notFound.remember(key, error, policy.notFoundTtl());
                    }
                    if (!upstreamTrouble(cause)) {
                        return CompletableFuture.<ManifestAnswer>failedFuture(cause);
                    }
                    return stale(route, tag, cause.getMessage()).thenApply(stale -> stale.orElseThrow(() ->
                            cause instanceof RuntimeException runtime ? runtime : new IllegalStateException(cause)));
                })
                .thenCompose(next -> next);
    }

    /**
     * The owner's answer for the tag; a fresh one is remembered here, in memory, from when the
     * owner resolved it (the owner stored it), so the tag is answered here until its TTL ends.
     */
    private ManifestAnswer fromOwner(Route route, Tag tag, PeerManifest owned) {
        if (owned.staleBecause().isPresent()) {
            meters.counter("regmirror.manifests.stale", "upstream", route.registry()).increment();
        } else {
            count(route, "peer");
            tags.remember(route, tag, new TagStore.Resolution(owned.manifest().digest(),
                    owned.resolvedAt().orElseGet(clock::instant)));
        }
        return new ManifestAnswer(owned.manifest(), owned.staleBecause());
    }

    /** The manifest the HEAD points to, fetched if it is not cached, unless pulls are nearly used up. */
    private CompletableFuture<ManifestAnswer> current(Route route, Tag tag, ManifestHead head, TagPolicy policy,
                                                      ManifestOwners owners) {
        if (head.digest().isEmpty()) {
            count(route, "miss");
            return fetch(route, tag).thenCompose(manifest -> record(route, tag, manifest.digest())
                    .thenApply(ignored -> ManifestAnswer.fresh(manifest)));
        }
        Digest digest = head.digest().get();
        return Futures.supplyOn(diskExecutor, () -> cached(route, digest)).thenCompose(hit -> {
            if (hit.isPresent()) {
                count(route, "revalidated");
                return record(route, tag, digest).thenApply(ignored -> ManifestAnswer.fresh(hit.get()));
            }
            if (head.rateLimitRemaining().isPresent() && head.rateLimitRemaining().getAsLong() <= policy.rateLimitFloor()) {
                String why = route.registry() + " reports " + head.rateLimitRemaining().getAsLong()
                        + " pulls left, at or below the floor of " + policy.rateLimitFloor();
                return stale(route, tag, why).thenCompose(stale -> stale.isPresent()
                        ? CompletableFuture.completedFuture(stale.get())
                        : byDigest(route, digest, owners).thenCompose(m -> record(route, tag, digest)
                                .thenApply(ignored -> ManifestAnswer.fresh(m))));
            }
            return byDigest(route, digest, owners).thenCompose(m -> record(route, tag, digest)
                    .thenApply(ignored -> ManifestAnswer.fresh(m)));
        });
    }

    /** The tag's last cached manifest, marked stale, if there is one. */
    private CompletableFuture<Optional<ManifestAnswer>> stale(Route route, Tag tag, String why) {
        return Futures.supplyOn(diskExecutor, () -> {
            Optional<TagStore.Resolution> known = knownTag(route, tag);
            if (known.isEmpty()) {
                return Optional.<ManifestAnswer>empty();
            }
            return cached(route, known.get().digest()).map(manifest -> {
                meters.counter("regmirror.manifests.stale", "upstream", route.registry()).increment();
                return new ManifestAnswer(manifest, Optional.of(why));
            });
        });
    }

    /**
     * A manifest by digest: from the cache, else from its owner (who fetches and stores it), else
     * one fetch here, shared by all who ask meanwhile.
     */
    private CompletableFuture<ManifestBytes> byDigest(Route route, Digest digest, ManifestOwners owners) {
        return hostedDigests.servable(route, digest,
                () -> clients.forRegistry(route.registry()).headManifest(route.name(), digest))
                .thenCompose(ignored -> recent.get(digest)
                        .map(inMemory -> CompletableFuture.completedFuture(Optional.of(inMemory)))
                        .orElseGet(() -> Futures.supplyOn(diskExecutor, () -> cached(route, digest))))
                .thenCompose(hit -> {
            if (hit.isPresent()) {
                count(route, "hit");
                return CompletableFuture.completedFuture(hit.get());
            }
            count(route, "miss");
            DigestKey key = new DigestKey(route, digest);
            Optional<UpstreamErrorException> miss = notFound.recall(key);
            if (miss.isPresent()) {
                return CompletableFuture.failedFuture(miss.get());
            }
            CompletableFuture<ManifestBytes> fetched = owners.ownedElsewhere(route, digest)
                    ? fetchingFromOwner.join(key, () -> owners.fetch(route, digest).thenCompose(owned -> owned.isPresent()
                            ? CompletableFuture.completedFuture(owned.get().manifest())
                            : fetches.join(key, () -> fetch(route, digest))))
                    : fetches.join(key, () -> fetch(route, digest));
            return fetched.whenComplete((manifest, failure) -> rememberNotFound(key, failure));
        });
    }

    private CompletableFuture<ManifestBytes> fetch(Route route, Reference reference) {
        return clients.forRegistry(route.registry()).getManifest(route.name(), reference)
                .thenCompose(manifest -> Futures.supplyOn(diskExecutor, () -> {
                    try {
                        store.put(manifest);
                        repositories.add(route);
                    } catch (IOException e) {
                        notStored("manifest " + manifest.digest().shortForm() + " of " + route.name(), e);
                    }
                    return manifest;
                }));
    }

    private CompletableFuture<Void> record(Route route, Tag tag, Digest digest) {
        return Futures.supplyOn(diskExecutor, () -> {
            try {
                tags.put(route, tag, new TagStore.Resolution(digest, clock.instant()));
                repositories.add(route);
            } catch (IOException e) {
                notStored("tag " + tag + " of " + route.name(), e);
            }
            return null;
        });
    }

    /**
     * A manifest or tag the cache could not store (disk full, write error) is still answered, as
     * blobs are streamed through; the next request asks the upstream again.
     */
    private void notStored(String what, IOException e) {
        meters.counter("regmirror.cache.write.failures").increment();
        LOG.warn("cannot cache {} ({}); answering it uncached", what, e.toString());
    }

    /**
     * The cached manifest, if any. Disk I/O. A hit does not add the repository to the catalog: only
     * an upstream's answer does (a fetch, or a tag resolution), so made-up names never land there.
     */
    private Optional<ManifestBytes> cached(Route route, Digest digest) {
        try {
            Optional<ManifestBytes> found = store.get(digest);
            found.ifPresent(recent::remember);
            return found;
        } catch (IOException e) {
            notRead("manifest " + digest.shortForm() + " of " + route.name(), e);
            return Optional.empty();
        }
    }

    /** The tag's last resolution, if the cache has one and can read it. Storage I/O. */
    private Optional<TagStore.Resolution> knownTag(Route route, Tag tag) {
        try {
            return tags.get(route, tag);
        } catch (IOException e) {
            notRead("tag " + tag + " of " + route.name(), e);
            return Optional.empty();
        }
    }

    /**
     * A manifest or tag the cache could not read (a bucket that stopped answering) is a miss: the
     * upstream is asked, as for a manifest the cache does not hold.
     */
    private void notRead(String what, IOException e) {
        meters.counter("regmirror.cache.read.failures").increment();
        LOG.warn("cannot read {} from the cache ({}); asking the upstream", what, e.toString());
    }

    /**
     * Counts a manifest lookup: {@code hit} (from the cache, upstream not asked), {@code
     * revalidated} (the upstream confirmed the tag, the bytes came from the cache), {@code miss}
     * (fetched), {@code peer} (the tag's owner in the cluster answered it). Stale answers are {@code regmirror.manifests.stale}.
     */
    private void count(Route route, String result) {
        counters.computeIfAbsent(List.of(route.registry(), result), labels -> Counter
                .builder("regmirror.manifest.requests").description("manifest lookups by where the answer came from")
                .tags("upstream", labels.get(0), "result", labels.get(1)).register(meters)).increment();
    }

    private Duration age(TagStore.Resolution resolution) {
        return Duration.between(resolution.resolvedAt(), clock.instant());
    }

    /** Unreachable, timed out, failing (5xx) or rate-limited: trouble a cached answer can stand in for. */
    static boolean upstreamTrouble(Throwable cause) {
        if (cause instanceof UpstreamUnavailableException) {
            return true;
        }
        return cause instanceof UpstreamErrorException error
                && (error.upstreamStatus() >= 500 || error.upstreamStatus() == 429);
    }
}
