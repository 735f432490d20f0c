package dev.regmirror.core.mirror;

import dev.regmirror.core.client.CancellingSubscriber;
import dev.regmirror.core.error.InvalidRequestException;
import dev.regmirror.core.error.RegistryErrorCode;
import dev.regmirror.core.error.UpstreamErrorException;
import dev.regmirror.core.manifest.AcceptNegotiation;
import dev.regmirror.core.manifest.Descriptor;
import dev.regmirror.core.manifest.ManifestBytes;
import dev.regmirror.core.manifest.Manifests;
import dev.regmirror.core.manifest.MediaTypes;
import dev.regmirror.core.manifest.PlatformFilter;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.reference.Reference;
import dev.regmirror.core.upstream.Route;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Pulls an image into the cache exactly as clients pulling it would: its manifest (recording the
 * tag) and the chosen platforms' manifests through {@link PullThroughManifests}, then every config
 * and layer through {@link PullThroughBlobs}, a few at a time, so a blob a client is pulling at the
 * same moment is downloaded once. Nothing is read back: a blob is done when its download committed.
 */
public final class Prefetch {

    private static final AcceptNegotiation ANY = AcceptNegotiation.of(MediaTypes.ACCEPT_ALL);
    /** Indexes of indexes are followed this deep. */
    private static final int MAX_DEPTH = 2;

    private final PullThroughManifests manifests;
    private final PullThroughBlobs blobs;
    private final RegistryClients clients;
    private final int parallelBlobs;

    /**
     * @param clients       asked again, with a GET, only when the image turned out not to exist, for
     *                      the error body a HEAD cannot carry
     * @param parallelBlobs how many blobs of one image are fetched at once
     */
    public Prefetch(PullThroughManifests manifests, PullThroughBlobs blobs, RegistryClients clients, int parallelBlobs) {
        if (parallelBlobs < 1) {
            throw new IllegalArgumentException("parallelBlobs must be at least 1");
        }
        this.manifests = manifests;
        this.blobs = blobs;
        this.clients = clients;
        this.parallelBlobs = parallelBlobs;
    }

    /**
     * Pulls the image, reporting to {@code progress} as it goes. Fails with the first error: the
     * upstream's (MANIFEST_UNKNOWN, NAME_UNKNOWN, UNAVAILABLE, ...) or MANIFEST_UNKNOWN when an
     * index has none of the platforms asked for; downloads already running then still finish.
     */
    public CompletableFuture<PulledImage> pull(Route route, Reference reference, PlatformFilter platforms,
                                               PrefetchProgress progress) {
        return top(route, reference).thenCompose(answer -> {
            ManifestBytes top = answer.manifest();
            progress.resolved(top.digest());
            return images(route, top, platforms, 0).thenCompose(images -> {
                List<Descriptor> planned = distinctBlobs(images);
                progress.planned(planned);
                return fetchAll(route, planned, progress)
                        .thenApply(done -> new PulledImage(route, reference, top, images, planned));
            });
        });
    }

    /**
     * The manifest the reference names. A tag is checked with a HEAD, whose 404 has no body; then one
     * GET learns the upstream's own error (NAME_UNKNOWN for a missing repository, MANIFEST_UNKNOWN
     * with its message for a missing tag), which is what a prefetch reports.
     */
    private CompletableFuture<ManifestAnswer> top(Route route, Reference reference) {
        return manifests.get(route, reference, ANY).handle((answer, failure) -> {
            if (failure == null) {
                return CompletableFuture.completedFuture(answer);
            }
            Throwable cause = Futures.unwrap(failure);
            if (!(cause instanceof UpstreamErrorException missing && missing.isNotFound())) {
                return CompletableFuture.<ManifestAnswer>failedFuture(cause);
            }
            return clients.forRegistry(route.registry()).getManifest(route.name(), reference).<ManifestAnswer>handle((found, again) -> {
                Throwable better = again == null ? null : Futures.unwrap(again);
                throw new CompletionException(better instanceof UpstreamErrorException error && error.isNotFound()
                        ? error : cause);
            });
        }).thenCompose(answer -> answer);
    }

    /** The image manifests of {@code manifest}: itself, or the chosen entries of an index, fetched. */
    private CompletableFuture<List<ManifestBytes>> images(Route route, ManifestBytes manifest, PlatformFilter platforms,
                                                          int depth) {
        if (!MediaTypes.isIndex(manifest.mediaType())) {
            return CompletableFuture.completedFuture(List.of(manifest));
        }
        if (depth >= MAX_DEPTH) {
            return CompletableFuture.completedFuture(List.of());
        }
        List<Descriptor> entries = Manifests.indexEntries(manifest.bytes());
        List<Descriptor> chosen = entries.stream()
                .filter(entry -> MediaTypes.isIndex(entry.mediaType()) || platforms.matches(entry.platform())).toList();
        if (chosen.isEmpty() && !entries.isEmpty()) {
            return CompletableFuture.failedFuture(new InvalidRequestException(RegistryErrorCode.MANIFEST_UNKNOWN,
                    "index " + manifest.digest().shortForm() + " of " + route + " has no manifest for "
                            + String.join(", ", platforms.names()) + " (it has " + String.join(", ",
                            entries.stream().map(e -> String.valueOf(e.platform())).distinct().toList()) + ")"));
        }
        List<CompletableFuture<List<ManifestBytes>>> children = new ArrayList<>();
        for (Descriptor entry : chosen) {
            children.add(manifests.get(route, entry.digest(), ANY)
                    .thenCompose(child -> images(route, child.manifest(), platforms, depth + 1)));
        }
        return CompletableFuture.allOf(children.toArray(CompletableFuture[]::new)).thenApply(done -> {
            List<ManifestBytes> all = new ArrayList<>();
            children.forEach(child -> all.addAll(child.join()));
            return all;
        });
    }

    private static List<Descriptor> distinctBlobs(List<ManifestBytes> images) {
        Map<Digest, Descriptor> distinct = new LinkedHashMap<>();
        for (ManifestBytes image : images) {
            for (Descriptor blob : Manifests.blobsOf(image.bytes())) {
                distinct.putIfAbsent(blob.digest(), blob);
            }
        }
        return new ArrayList<>(distinct.values());
    }

    /** Fetches the blobs, {@code parallelBlobs} at a time; fails as soon as one fails, starting no more. */
    private CompletableFuture<Void> fetchAll(Route route, List<Descriptor> planned, PrefetchProgress progress) {
        Queue<Descriptor> queue = new ConcurrentLinkedQueue<>(planned);
        CompletableFuture<Void> result = new CompletableFuture<>();
        List<CompletableFuture<Void>> workers = new ArrayList<>();
        for (int i = 0; i < Math.min(parallelBlobs, planned.size()); i++) {
            workers.add(worker(route, queue, progress, result));
        }
        CompletableFuture.allOf(workers.toArray(CompletableFuture[]::new)).whenComplete((done, failure) -> {
            if (failure == null) {
                result.complete(null);
            } else {
                result.completeExceptionally(Futures.unwrap(failure)); // a no-op when a worker already failed it
            }
        });
        return result;
    }

    private CompletableFuture<Void> worker(Route route, Queue<Descriptor> queue, PrefetchProgress progress,
                                           CompletableFuture<Void> result) {
        Descriptor next = result.isDone() ? null : queue.poll();
        if (next == null) {
            return CompletableFuture.completedFuture(null);
        }
        return fetch(route, next, progress).whenComplete((done, failure) -> {
            if (failure != null) {
                queue.clear();
                result.completeExceptionally(Futures.unwrap(failure));
            }
        }).thenCompose(done -> worker(route, queue, progress, result));
    }

    /** One blob into the cache: already there, joined or started download, waited for until committed. */
    private CompletableFuture<Void> fetch(Route route, Descriptor blob, PrefetchProgress progress) {
        return blobs.open(route, blob.digest()).thenCompose(source -> {
            if (source instanceof BlobSource.Cached cached) {
                try {
                    cached.blob().close();
                } catch (IOException e) {
                    // only the read channel failed to close; the blob is in the cache
                }
                progress.blobDone(null, cached.size(), true);
                return CompletableFuture.completedFuture(null);
            }
            if (source instanceof BlobSource.Filling filling) {
                BlobFill fill = filling.fill();
                progress.following(fill);
                return fill.done().handle((stored, failure) -> {
                    if (failure != null) {
                        progress.stopFollowing(fill);
                        throw new CompletionException(Futures.unwrap(failure));
                    }
                    progress.blobDone(fill, stored.size(), false);
                    return null;
                });
            }
            BlobSource.Direct direct = (BlobSource.Direct) source;
            direct.body().publisher().subscribe(new CancellingSubscriber());
            return CompletableFuture.failedFuture(StorageFailure.write(new IOException(
                    "the cache is not taking blobs after a storage failure; blob " + blob.digest().shortForm()
                            + " of " + route + " was not prefetched"), null));
        });
    }
}
