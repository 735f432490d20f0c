package dev.regmirror.core.mirror;

import dev.regmirror.core.blob.BlobStore;
import dev.regmirror.core.blob.OpenBlob;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.upstream.Route;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.Executor;

/**
 * Answers blob requests: from the cache when the blob is there, else by joining or starting the one
 * download of that digest, which every requester follows as it fills.
 */
public final class PullThroughBlobs {

    private final RegistryClients clients;
    private final BlobStore store;
    private final Executor diskExecutor;
    private final ConcurrentMap<Digest, BlobFill> inFlight = new ConcurrentHashMap<>();

    public PullThroughBlobs(RegistryClients clients, BlobStore store, Executor diskExecutor) {
        this.clients = clients;
        this.store = store;
        this.diskExecutor = diskExecutor;
    }

    /** Opens the blob for one response: cached, or a fill that has started (the upstream said 200). */
    public CompletableFuture<BlobSource> open(Route route, Digest digest) {
        return Futures.supplyOn(diskExecutor, () -> {
            Optional<OpenBlob> hit = store.open(digest);
            if (hit.isPresent()) {
                return CompletableFuture.completedFuture((BlobSource) new BlobSource.Cached(hit.get()));
            }
            BlobFill fill = fillFor(route, digest);
            return fill.started().thenApply(size -> (BlobSource) new BlobSource.Filling(fill, size));
        }).thenCompose(source -> source);
    }

    /** The blob's size without downloading it: from the cache, a running fill, or an upstream HEAD. */
    public CompletableFuture<Long> size(Route route, Digest digest) {
        return Futures.supplyOn(diskExecutor, () -> store.find(digest)).thenCompose(hit -> {
            if (hit.isPresent()) {
                return CompletableFuture.completedFuture(hit.get().size());
            }
            BlobFill fill = inFlight.get(digest);
            if (fill != null) {
                return fill.started();
            }
            return clients.forRegistry(route.registry()).headBlob(route.name(), digest).thenApply(h -> h.size());
        });
    }

    /** The running fill of this digest, started if there is none; runs on a disk thread. */
    private BlobFill fillFor(Route route, Digest digest) {
        BlobFill created = new BlobFill(route, digest);
        BlobFill existing = inFlight.putIfAbsent(digest, created);
        if (existing != null) {
            return existing;
        }
        created.done().whenComplete((blob, failure) -> inFlight.remove(digest, created));
        created.start(clients.forRegistry(route.registry()), store, diskExecutor);
        return created;
    }
}
