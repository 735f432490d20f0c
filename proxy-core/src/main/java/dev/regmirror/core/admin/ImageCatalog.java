package dev.regmirror.core.admin;

import dev.regmirror.core.blob.FileBlobStore;
import dev.regmirror.core.cache.CacheIndex;
import dev.regmirror.core.cache.PullStore;
import dev.regmirror.core.cache.RepositoryStore;
import dev.regmirror.core.cache.TagStore;
import dev.regmirror.core.hosted.HostedStore;
import dev.regmirror.core.manifest.Descriptor;
import dev.regmirror.core.manifest.Manifests;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.reference.RepositoryName;
import dev.regmirror.core.reference.Tag;
import dev.regmirror.core.storage.CacheStorage;
import dev.regmirror.core.storage.CachedManifests;
import dev.regmirror.core.upstream.Route;
import io.netty.handler.codec.http.HttpMethod;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * The cached images for {@code /admin/images}: each cached repository with the tags it resolved,
 * the digest each last resolved to and when, and the image's size (the manifest, its blobs and,
 * for an index, its cached child manifests with theirs) both declared and actually cached, and the
 * hosted repositories with the tags pushed to them. Reads
 * tag and manifest files: call {@link #page} from the disk executor.
 */
public final class ImageCatalog {

    /** One page of repositories, and whether more follow the last one. */
    public record Page(List<Repository> repositories, boolean more) {
    }

    /** @param hosted whether it is a hosted repository, pushed to regmirror; {@code upstream} is then the hosted registry's name */
    public record Repository(String name, String upstream, boolean hosted, List<TaggedImage> tags) {
    }

    /**
     * @param mediaType null when the manifest is no longer cached
     * @param size the manifest and everything it references, as declared (what a pull transfers)
     * @param cachedBytes the part of that held in the cache
     * @param pulls how often and when last the tag was pulled through regmirror, if ever
     * @param lastResolved when the tag last resolved upstream, or for a hosted tag when it was pushed
     */
    public record TaggedImage(String tag, Digest digest, Instant lastResolved, String mediaType, long size,
                       long cachedBytes, Optional<PullStore.Pulls> pulls) {
    }

    private record Size(long declared, long cached) {
        Size plus(Size other) {
            return new Size(declared + other.declared, cached + other.cached);
        }
    }

    private final RepositoryStore repositories;
    private final TagStore tags;
    private final PullStore pulls;
    private final CachedManifests manifests;
    private final CacheIndex index;
    private final Optional<HostedStore> hosted;
    private final String hostedRegistry;

    /** @param hostedRegistry the hosted registry's name, which hosted repositories' names start with */
    public ImageCatalog(CacheStorage storage, String hostedRegistry) {
        this.hosted = storage.hosted();
        this.hostedRegistry = hostedRegistry;
        this.repositories = storage.repositories();
        this.tags = storage.tags();
        this.pulls = storage.pulls();
        this.manifests = storage.cachedManifests();
        this.index = storage.index();
    }

    /**
     * What a page asks for: repositories of one upstream, or whose names start with a prefix, at
     * most {@code n} of them after {@code last} (exclusive) in lexical order.
     */
    public record Query(Optional<String> upstream, Optional<String> prefix, int n, Optional<String> last) {
    }

    /** One page of the catalog. */
    public Page page(Query request) throws IOException {
        List<String> names = new ArrayList<>();
        boolean more = false;
        TreeSet<String> all = new TreeSet<>(repositories.page(request.last().orElse(null), Integer.MAX_VALUE));
        Set<String> hostedNames = new HashSet<>();
        if (hosted.isPresent()) {
            for (RepositoryName name : hosted.get().repositories()) {
                String written = hostedRegistry + "/" + name.value();
                if (request.last().map(last -> written.compareTo(last) > 0).orElse(true)) {
                    all.add(written);
                    hostedNames.add(written);
                }
            }
        }
        for (String name : all) {
            if (!matches(name, request)) {
                continue;
            }
            if (names.size() == request.n()) {
                more = true;
                break;
            }
            names.add(name);
        }
        List<Repository> page = new ArrayList<>(names.size());
        for (String name : names) {
            page.add(hostedNames.contains(name) ? hostedRepository(name) : repository(name));
        }
        return new Page(page, more);
    }

    /** Every repository, cached and hosted, with its tags. */
    public List<Repository> all() throws IOException {
        return page(new Query(Optional.empty(), Optional.empty(), Integer.MAX_VALUE, Optional.empty())).repositories();
    }

    private static boolean matches(String name, Query request) {
        return request.upstream().map(upstream -> name.startsWith(upstream + "/")).orElse(true)
                && request.prefix().map(name::startsWith).orElse(true);
    }

    private Repository repository(String name) throws IOException {
        int slash = name.indexOf('/');
        Route route = new Route(name.substring(0, slash), new RepositoryName(name.substring(slash + 1)));
        List<TaggedImage> images = new ArrayList<>();
        for (Tag tag : tags.tags(route)) {
            Optional<TagStore.Resolution> resolution = tags.get(route, tag);
            if (resolution.isEmpty()) {
                continue;
            }
            Digest digest = resolution.get().digest();
            Optional<byte[]> bytes = manifests.bytes(digest);
            Size size = bytes.isPresent() ? sizeOf(bytes.get(), true) : new Size(0, 0);
            images.add(new TaggedImage(tag.value(), digest, resolution.get().resolvedAt(),
                    bytes.flatMap(Manifests::detectMediaType).orElse(null), size.declared(), size.cached(),
                    pulls.get(route, tag)));
        }
        return new Repository(name, route.registry(), false, images);
    }

    /** A hosted repository with its tags as pushed: sizes are all held, pulls are not counted. */
    private Repository hostedRepository(String name) throws IOException {
        Route route = Route.hosted(hostedRegistry, new RepositoryName(name.substring(hostedRegistry.length() + 1)));
        List<TaggedImage> images = new ArrayList<>();
        for (Tag tag : hosted.get().tags(route)) {
            Optional<Digest> digest = hosted.get().tag(route, tag);
            Optional<Instant> pushed = hosted.get().taggedAt(route, tag);
            if (digest.isEmpty() || pushed.isEmpty()) {
                continue;
            }
            Optional<byte[]> bytes = manifests.bytes(digest.get());
            Size size = bytes.isPresent() ? sizeOf(bytes.get(), true) : new Size(0, 0);
            images.add(new TaggedImage(tag.value(), digest.get(), pushed.get(),
                    bytes.flatMap(Manifests::detectMediaType).orElse(null), size.declared(), size.cached(),
                    Optional.empty()));
        }
        return new Repository(name, hostedRegistry, true, images);
    }

    private Size sizeOf(byte[] bytes, boolean followIndex) throws IOException {
        Size size = new Size(bytes.length, bytes.length);
        for (Descriptor blob : Manifests.blobsOf(bytes)) {
            size = size.plus(new Size(Math.max(blob.size(), 0), index.contains(blob.digest()) ? cachedSize(blob) : 0));
        }
        if (followIndex) {
            for (Descriptor child : Manifests.indexEntries(bytes)) {
                Optional<byte[]> childBytes = manifests.bytes(child.digest());
                size = childBytes.isPresent() ? size.plus(sizeOf(childBytes.get(), false))
                        : size.plus(new Size(Math.max(child.size(), 0), 0));
            }
        }
        return size;
    }

    private static long cachedSize(Descriptor blob) {
        // A committed blob was verified against its digest, so its size is the descriptor's.
        return Math.max(blob.size(), 0);
    }
}
