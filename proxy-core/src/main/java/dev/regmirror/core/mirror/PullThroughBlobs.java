package dev.regmirror.core.mirror;

import dev.regmirror.core.blob.BlobStore;
import dev.regmirror.core.blob.OpenBlob;
import dev.regmirror.core.blob.StoredBlob;
import dev.regmirror.core.client.RegistryClient;
import dev.regmirror.core.cluster.BlobOwners;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.upstream.Route;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers blob requests: from the cache when the blob is there, else by joining or starting the one
 * download of that digest, which every requester follows as it fills. In a cluster, that download
 * of a blob another node owns is a relay of the owner's bytes, which this node does not store.
 */
public final class PullThroughBlobs {

    private static final Logger LOG = LoggerFactory.getLogger(PullThroughBlobs.class);

    private final RegistryClients clients;
    private final BlobStore store;
    private final Executor diskExecutor;
    private final ScheduledExecutorService scheduler;
    private final Duration fillTimeout;
    private final StorageHealth health;
    private final MeterRegistry meters;
    /** The request counters by upstream and result: built and registered once, not per request. */
    private final Map<List<String>, Counter> counters = new ConcurrentHashMap<>();
    /** The requests other nodes made of this one as owner, by upstream: built once, too. */
    private final Map<String, Counter> ownerCounters = new ConcurrentHashMap<>();
    private final HostedDigests hostedDigests;
    private final DigestLinks links;
    private final BlobOwners owners;
    /**
     * Running downloads by registry, digest and kind: one registry's failure never answers another's
     * request, and a node asked as the owner never joins its own relay from another node (two nodes
     * disagreeing on the owner for a moment would otherwise wait on each other).
     */
    private final ConcurrentMap<FillKey, BlobFill> inFlight = new ConcurrentHashMap<>();

    /** @param relay whether the fill relays the blob from its owner in a cluster rather than fetching it */
    private record FillKey(String registry, Digest digest, boolean relay) {
    }

    /**
     * @param fillTimeout the longest a download may take, readers or not, before it is given up
     * @param health      whether the cache can take blobs; while it cannot, blobs stream through
     * @param meters      where {@code regmirror.blob.requests} (by upstream and result) and
     *                    {@code regmirror.fills.inflight} are kept
     */
    public PullThroughBlobs(RegistryClients clients, BlobStore store, Executor diskExecutor,
                            ScheduledExecutorService scheduler, Duration fillTimeout, StorageHealth health,
                            MeterRegistry meters) {
        this(clients, store, diskExecutor, scheduler, fillTimeout, health, meters, HostedDigests.NONE);
    }

    /** @param hostedDigests which stored digests a mirrored name gets only once its upstream confirms them */
    public PullThroughBlobs(RegistryClients clients, BlobStore store, Executor diskExecutor,
                            ScheduledExecutorService scheduler, Duration fillTimeout, StorageHealth health,
                            MeterRegistry meters, HostedDigests hostedDigests) {
        this(clients, store, diskExecutor, scheduler, fillTimeout, health, meters, hostedDigests, DigestLinks.OPEN,
                BlobOwners.NONE);
    }

    /**
     * @param links  which digests each mirrored name may be served without asking its upstream first
     * @param owners which node of a cluster fetches a blob missing from the store: this one, or its owner
     */
    public PullThroughBlobs(RegistryClients clients, BlobStore store, Executor diskExecutor,
                            ScheduledExecutorService scheduler, Duration fillTimeout, StorageHealth health,
                            MeterRegistry meters, HostedDigests hostedDigests, DigestLinks links, BlobOwners owners) {
        this.hostedDigests = hostedDigests;
        this.links = links;
        this.owners = owners;
        this.clients = clients;
        this.store = store;
        this.diskExecutor = diskExecutor;
        this.scheduler = scheduler;
        this.fillTimeout = fillTimeout;
        this.health = health;
        this.meters = meters;
        Gauge.builder("regmirror.fills.inflight", inFlight, Map::size)
                .description("blob downloads from upstreams in progress").register(meters);
    }

    /** Opens the blob for one response: cached, or a fill that has started (the upstream said 200). */
    public CompletableFuture<BlobSource> open(Route route, Digest digest) {
        return confirmed(route, digest).thenCompose(ignored -> openServable(route, digest, true));
    }

    /**
     * Opens the blob for another node of the cluster that asked this one, its owner: from the store
     * or this node's one fill, never asking another node in turn (nodes that disagree on the owner
     * for a moment fetch twice rather than forward in a circle).
     */
    public CompletableFuture<BlobSource> openAsOwner(Route route, Digest digest) {
        ownerCounters.computeIfAbsent(route.registry(), registry -> Counter.builder("regmirror.cluster.blob.requests")
                .description("blob requests from other nodes of the cluster, answered as the owner")
                .tags("upstream", registry).register(meters)).increment();
        return openServable(route, digest, false);
    }

    /**
     * For a mirrored name, a stored hosted digest only once the upstream has it too ({@link
     * HostedDigests}), and, under pull rules, a digest not linked to the name only once its upstream
     * has it there ({@link DigestLinks}); one HEAD answers both.
     */
    private CompletableFuture<Void> confirmed(Route route, Digest digest) {
        Supplier<CompletableFuture<?>> head = () -> clients.forRegistry(route.registry()).headBlob(route.name(), digest)
                .thenAccept(answer -> links.link(route, digest));
        return hostedDigests.servable(route, digest, head).thenCompose(ignored -> links.servable(route, digest, head));
    }

    private CompletableFuture<BlobSource> openServable(Route route, Digest digest, boolean mayAskOwner) {
        return Futures.supplyOn(diskExecutor, () -> {
            Optional<OpenBlob> hit;
            try {
                hit = store.open(digest);
            } catch (IOException e) {
                // The store cannot be read (a bucket that stopped answering): the upstream still can.
                health.failed(StorageFailure.read(e));
                count(route, "uncached");
                return direct(route, digest);
            }
            if (hit.isPresent()) {
                count(route, "hit");
                return CompletableFuture.completedFuture((BlobSource) new BlobSource.Cached(hit.get()));
            }
            if (health.troubled()) {
                count(route, "uncached");
                return direct(route, digest);
            }
            // A fill of its own already running here (as the owner, or before the cluster changed) is joined.
            boolean relay = mayAskOwner && !inFlight.containsKey(new FillKey(route.registry(), digest, false))
                    && owners.ownedElsewhere(digest);
            return fill(route, digest, relay);
        }).thenCompose(source -> source);
    }

    /** Joins or starts this node's fill (or relay) of the blob; runs on a disk thread. */
    private CompletableFuture<BlobSource> fill(Route route, Digest digest, boolean relay) {
        BlobFill fill = fillFor(route, digest, relay);
        return fill.started().handle((size, failure) -> {
            if (failure == null && fill.foundStored()) {
                return Futures.supplyOn(diskExecutor, () -> store.open(digest)).thenCompose(stored -> stored
                        .map(blob -> CompletableFuture.completedFuture((BlobSource) new BlobSource.Cached(blob)))
                        .orElseGet(() -> direct(route, digest)));
            }
            if (failure == null) {
                return CompletableFuture.completedFuture((BlobSource) new BlobSource.Filling(fill, fill.size(size)));
            }
            if (Futures.unwrap(failure) instanceof StorageFailure storage) {
                count(route, "uncached");
                return storage.takeBody()
                        .map(body -> {
                            health.servedUncached();
                            return CompletableFuture.completedFuture((BlobSource) new BlobSource.Direct(digest, body));
                        })
                        .orElseGet(() -> direct(route, digest));
            }
            return CompletableFuture.<BlobSource>failedFuture(Futures.unwrap(failure));
        }).thenCompose(source -> source);
    }

    /** A download for this response alone, not cached. */
    private CompletableFuture<BlobSource> direct(Route route, Digest digest) {
        health.servedUncached();
        return clients.forRegistry(route.registry()).getBlob(route.name(), digest)
                .thenApply(body -> new BlobSource.Direct(digest, body));
    }

    /** The blob's size without downloading it: from the cache, a running fill, or an upstream HEAD. */
    public CompletableFuture<Long> size(Route route, Digest digest) {
        return confirmed(route, digest).thenCompose(ignored -> sizeServable(route, digest));
    }

    private CompletableFuture<Long> sizeServable(Route route, Digest digest) {
        return Futures.supplyOn(diskExecutor, () -> {
            try {
                return store.find(digest);
            } catch (IOException e) {
                health.failed(StorageFailure.read(e));
                return Optional.<StoredBlob>empty();
            }
        }).thenCompose(hit -> {
            if (hit.isPresent()) {
                return CompletableFuture.completedFuture(hit.get().size());
            }
            BlobFill fill = inFlight.get(new FillKey(route.registry(), digest, false));
            if (fill == null) {
                fill = inFlight.get(new FillKey(route.registry(), digest, true));
            }
            if (fill != null) {
                // Known once the upstream declared it or the fill is verified; else the upstream says.
                BlobFill running = fill;
                return running.started().thenCompose(declared -> {
                    long size = running.size(declared);
                    return size >= 0 ? CompletableFuture.completedFuture(size) : upstreamSize(route, digest);
                });
            }
            return upstreamSize(route, digest);
        });
    }

    private CompletableFuture<Long> upstreamSize(Route route, Digest digest) {
        return clients.forRegistry(route.registry()).headBlob(route.name(), digest).thenApply(h -> h.size());
    }

    /**
     * Counts a blob request by where its bytes come from: {@code hit} (the cache), {@code miss} (a
     * new download), {@code shared} (joined a download already running), {@code uncached} (streamed
     * through because the cache cannot store it), {@code peer} (a relay of the blob from the node of
     * the cluster that owns it, which this node's later requests join as {@code shared}).
     */
    private void count(Route route, String result) {
        counters.computeIfAbsent(List.of(route.registry(), result), labels -> Counter
                .builder("regmirror.blob.requests").description("blob requests by where the bytes come from")
                .tags("upstream", labels.get(0), "result", labels.get(1)).register(meters)).increment();
    }

    /**
     * The running fill (or relay) of this digest, started if there is none; runs on a disk thread. A
     * relay whose owner cannot be asked fetches from the upstream and stores the blob itself.
     */
    private BlobFill fillFor(Route route, Digest digest, boolean relay) {
        FillKey key = new FillKey(route.registry(), digest, relay);
        RegistryClient client = clients.forRegistry(route.registry()); // before the fill is there to join
        BlobFill created = new BlobFill(route, digest);
        BlobFill existing = inFlight.putIfAbsent(key, created);
        if (existing != null) {
            count(route, "shared");
            return existing;
        }
        if (!relay) {
            count(route, "miss");
        }
        created.done().whenComplete((blob, failure) -> {
            inFlight.remove(key, created);
            if (failure != null && Futures.unwrap(failure) instanceof StorageFailure storage) {
                if (storage.troublesTheCache()) {
                    health.failed(storage);
                } else {
                    LOG.info("{}; streaming it through uncached", storage.getCause().getMessage());
                }
            }
        });
        if (!relay) {
            created.start(client, store, diskExecutor, scheduler, fillTimeout);
            return created;
        }
        created.start(() -> owners.fetch(route, digest).thenComposeAsync(body -> {
            if (body.isPresent()) {
                count(route, "peer");
                return CompletableFuture.completedFuture(new BlobFill.Feed(body.get(), true));
            }
            count(route, "miss");
            return client.getBlob(route.name(), digest).thenApply(fetched -> new BlobFill.Feed(fetched, false));
        }, diskExecutor), store, diskExecutor, scheduler, fillTimeout);
        if (created.foundStored()) {
            count(route, "hit");
        }
        return created;
    }
}
