package dev.regmirror.core.mirror;

import dev.regmirror.core.blob.ManifestStore;
import dev.regmirror.core.cache.RepositoryStore;
import dev.regmirror.core.client.ManifestHead;
import dev.regmirror.core.client.RegistryClient;
import dev.regmirror.core.manifest.AcceptNegotiation;
import dev.regmirror.core.manifest.ManifestBytes;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.reference.Reference;
import dev.regmirror.core.reference.Tag;
import dev.regmirror.core.upstream.Route;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * Answers manifest requests from the cache where it can and from the upstream where it must: a
 * digest once cached is never asked for again; a tag is resolved with a HEAD upstream on every
 * request, and its bytes come from the cache when the digest is already there.
 */
public final class PullThroughManifests {

    private final RegistryClients clients;
    private final ManifestStore store;
    private final RepositoryStore repositories;
    private final Executor diskExecutor;

    public PullThroughManifests(RegistryClients clients, ManifestStore store, RepositoryStore repositories,
                                Executor diskExecutor) {
        this.clients = clients;
        this.store = store;
        this.repositories = repositories;
        this.diskExecutor = diskExecutor;
    }

    /** The manifest to answer with, after content negotiation against the client's Accept. */
    public CompletableFuture<ManifestBytes> get(Route route, Reference reference, AcceptNegotiation accept) {
        return resolve(route, reference).thenCompose(manifest -> {
            AcceptNegotiation.Decision decision = accept.decide(manifest, reference instanceof Tag);
            if (decision instanceof AcceptNegotiation.Decision.ServeChild child) {
                return resolve(route, child.digest()).thenApply(chosen -> {
                    accept.checkChild(chosen);
                    return chosen;
                });
            }
            return CompletableFuture.completedFuture(((AcceptNegotiation.Decision.Serve) decision).manifest());
        });
    }

    private CompletableFuture<ManifestBytes> resolve(Route route, Reference reference) {
        RegistryClient client = clients.forRegistry(route.registry());
        if (reference instanceof Digest digest) {
            return cached(route, digest).thenCompose(hit -> hit.isPresent()
                    ? CompletableFuture.completedFuture(hit.get())
                    : fetch(client, route, digest));
        }
        return client.headManifest(route.name(), reference).thenCompose((ManifestHead head) -> {
            if (head.digest().isEmpty()) {
                return fetch(client, route, reference);
            }
            return cached(route, head.digest().get()).thenCompose(hit -> hit.isPresent()
                    ? CompletableFuture.completedFuture(hit.get())
                    : fetch(client, route, head.digest().get()));
        });
    }

    /** The cached manifest, if any; a hit also records the repository it was asked for under. */
    private CompletableFuture<Optional<ManifestBytes>> cached(Route route, Digest digest) {
        return Futures.supplyOn(diskExecutor, () -> {
            Optional<ManifestBytes> hit = store.get(digest);
            if (hit.isPresent()) {
                repositories.add(route);
            }
            return hit;
        });
    }

    private CompletableFuture<ManifestBytes> fetch(RegistryClient client, Route route, Reference reference) {
        return client.getManifest(route.name(), reference)
                .thenCompose(manifest -> Futures.supplyOn(diskExecutor, () -> {
                    store.put(manifest);
                    repositories.add(route);
                    return manifest;
                }));
    }
}
