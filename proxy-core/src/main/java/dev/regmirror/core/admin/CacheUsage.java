package dev.regmirror.core.admin;

import dev.regmirror.core.cache.CacheIndex;
import dev.regmirror.core.hosted.HostedStore;
import dev.regmirror.core.manifest.Descriptor;
import dev.regmirror.core.manifest.Manifests;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.storage.CacheStorage;
import dev.regmirror.core.storage.CachedManifests;
import java.io.IOException;
import java.nio.file.Files;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * What the cache holds and could give back, like {@code docker system df}: the bytes and blobs of
 * the index, the bytes shared layers save (each cached image manifest's cached blobs added up,
 * less the distinct blobs they are), the bytes of blobs no cached manifest references, the free
 * space of the cache's file system and the cap. Measuring reads every cached manifest: call
 * {@link #measure} from the disk executor.
 *
 * Hosted content (what hosted repositories link) is counted in the totals and apart, and is never
 * reclaimable: only prune's garbage collection releases it, once nothing references it.
 *
 * @param maxBytes           the configured cap, 0 for none
 * @param hostedBytes        bytes of blobs and manifests hosted repositories link (the cap does not count them)
 * @param hostedBlobs        how many blobs and manifests that is
 * @param hostedRepositories hosted repositories, 0 when nothing is hosted
 */
public record CacheUsage(long totalBytes, int blobs, int manifests, long sharedBytesSaved, long reclaimableBytes,
                  long freeBytes, long maxBytes, long hostedBytes, int hostedBlobs, int hostedRepositories) {

    public static CacheUsage measure(CacheStorage storage) throws IOException {
        CacheIndex index = storage.index();
        CachedManifests cached = storage.cachedManifests();
        Optional<HostedStore> hosted = storage.hosted();
        Map<Digest, Long> sizes = new HashMap<>();
        long total = 0;
        for (CacheIndex.Entry entry : index.entries()) {
            sizes.put(entry.digest(), entry.size());
            total += entry.size();
        }
        Set<Digest> referenced = new HashSet<>();
        Set<Digest> layers = new HashSet<>();
        long layerBytesPerImage = 0;
        int manifests = 0;
        for (Digest digest : cached.digests()) {
            Optional<byte[]> bytes = cached.bytes(digest);
            if (bytes.isEmpty()) {
                continue;
            }
            manifests++;
            referenced.add(digest);
            for (Descriptor child : Manifests.indexEntries(bytes.get())) {
                referenced.add(child.digest());
            }
            for (Descriptor blob : Manifests.blobsOf(bytes.get())) {
                Long size = sizes.get(blob.digest());
                if (size != null) {
                    layerBytesPerImage += size;
                    layers.add(blob.digest());
                }
            }
        }
        referenced.addAll(layers);
        Set<Digest> retained = index.retainedDigests();
        referenced.addAll(retained);
        long distinctLayerBytes = layers.stream().mapToLong(sizes::get).sum();
        long reclaimable = sizes.entrySet().stream().filter(entry -> !referenced.contains(entry.getKey()))
                .mapToLong(Map.Entry::getValue).sum();
        long free = Files.getFileStore(storage.layout().root()).getUsableSpace();
        int repositories = hosted.isPresent() ? hosted.get().repositories().size() : 0;
        int hostedBlobs = (int) retained.stream().filter(sizes::containsKey).count();
        return new CacheUsage(total, sizes.size(), manifests, layerBytesPerImage - distinctLayerBytes, reclaimable, free,
                index.maxBytes(), index.retainedBytes(), hostedBlobs, repositories);
    }
}
