package dev.regmirror.core.admin;

import dev.regmirror.core.cache.TagStore;
import dev.regmirror.core.error.InvalidRequestException;
import dev.regmirror.core.error.RegistryErrorCode;
import dev.regmirror.core.hosted.HostedGc;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.storage.CacheStorage;
import dev.regmirror.core.upstream.Route;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries out purges and prunes, one at a time: reads a {@link CacheSnapshot}, plans with
 * {@link RemovalPlan}, then forgets the tags (through {@link TagStore}, so its memory forgets too,
 * and their pull counts),
 * the manifests' media types, the manifests' and blobs' files and index entries, and the emptied
 * repositories, in that order, so a crash half-way leaves only what a prune removes. Disk I/O:
 * call from the maintenance executor only. It is not synchronized itself: that single-thread
 * executor runs purges, prunes and the processing of imports one at a time, which also keeps a
 * prune from seeing an import's blobs before its manifests and tags.
 */
public final class CacheCleaner {

    private static final Logger LOG = LoggerFactory.getLogger(CacheCleaner.class);

    private final CacheStorage storage;
    private final Optional<HostedGc> hostedGc;
    /** Held over every purge and prune: the write side of the hosted push lock, when anything is hosted. */
    private final Lock removals;

    /** A cleaner of a cache with nothing hosted. */
    public CacheCleaner(CacheStorage storage) {
        this(storage, Optional.empty(), new ReentrantLock());
    }

    /**
     * @param hostedGc the garbage collection of hosted blobs a prune runs first
     * @param removals the lock pushes hold from storing to linking (their read side), held over
     *                 each purge and prune so neither removes a blob a push has stored and not yet linked
     */
    public CacheCleaner(CacheStorage storage, Optional<HostedGc> hostedGc, Lock removals) {
        this.hostedGc = hostedGc;
        this.removals = removals;
        this.storage = storage;
    }

    /**
     * Purges the selection, or with {@code dryRun} only says what would go. An image, digest or
     * repository the cache does not hold is 404 MANIFEST_UNKNOWN or NAME_UNKNOWN.
     */
    public RemovalPlan purge(PurgeSelection selection, boolean dryRun) throws IOException {
        removals.lock();
        try {
            return purgeLocked(selection, dryRun);
        } finally {
            removals.unlock();
        }
    }

    private RemovalPlan purgeLocked(PurgeSelection selection, boolean dryRun) throws IOException {
        if (hostedGc.isPresent()) {
            hostedGc.get().retainLinked(); // what another node on the bucket pushed is kept too
        }
        CacheSnapshot cache = snapshot();
        RemovalPlan plan = RemovalPlan.purge(cache, selection).orElseThrow(() -> new InvalidRequestException(
                selection instanceof PurgeSelection.Repository ? RegistryErrorCode.NAME_UNKNOWN
                        : RegistryErrorCode.MANIFEST_UNKNOWN, "nothing cached matches " + selection
                        + tagElsewhere(cache, selection)));
        if (!dryRun) {
            apply(plan);
            LOG.info("purged {}: {} tags, {} manifests, {} blobs, {} bytes", selection, plan.tags().size(),
                    plan.manifests().size(), plan.blobs().size(), plan.bytesFreed());
        }
        return plan;
    }

    /** For {@code name:tag@digest} whose tag points to another digest, says where, so the 404 explains itself. */
    private static String tagElsewhere(CacheSnapshot cache, PurgeSelection selection) {
        if (selection instanceof PurgeSelection.OneManifest one && one.tag().isPresent()) {
            Digest tagged = cache.tags().getOrDefault(one.route(), Map.of()).get(one.tag().get());
            return tagged == null ? " (no tag " + one.tag().get() + " is cached)"
                    : " (tag " + one.tag().get() + " points to " + tagged
                            + "; purge by the digest alone to remove it anyway)";
        }
        return "";
    }

    /**
     * Collects hosted blobs nothing references (see {@link HostedGc}), then removes manifests no tag
     * reaches and blobs no remaining manifest references; {@code dryRun} only says which.
     */
    public RemovalPlan prune(boolean dryRun) throws IOException {
        removals.lock();
        try {
            HostedGc.Plan collected = new HostedGc.Plan(List.of(), Set.of());
            if (hostedGc.isPresent()) {
                collected = hostedGc.get().plan();
                if (!dryRun) {
                    hostedGc.get().apply(collected);
                }
            }
            CacheSnapshot cache = snapshot();
            RemovalPlan plan = RemovalPlan.prune(dryRun ? cache.released(collected.released()) : cache)
                    .withHostedLinks(collected.unlinked());
            if (!dryRun) {
                apply(plan);
                LOG.info("pruned {} manifests, {} blobs, {} bytes, {} hosted blob links", plan.manifests().size(),
                        plan.blobs().size(), plan.bytesFreed(), collected.unlinked().size());
            }
            return plan;
        } finally {
            removals.unlock();
        }
    }

    private CacheSnapshot snapshot() throws IOException {
        return CacheSnapshot.read(storage);
    }

    private void apply(RemovalPlan plan) throws IOException {
        for (RemovalPlan.TagRef tag : plan.tags()) {
            storage.tags().forget(tag.route(), tag.tag());
            storage.pulls().forget(tag.route(), tag.tag());
        }
        for (RemovalPlan.Item manifest : plan.manifests()) {
            storage.manifests().forget(manifest.digest());
            storage.blobs().delete(manifest.digest());
        }
        for (RemovalPlan.Item blob : plan.blobs()) {
            storage.blobs().delete(blob.digest());
        }
        for (Route route : plan.repositories()) {
            storage.repositories().remove(route);
        }
    }
}
