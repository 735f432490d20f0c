package dev.regmirror.server.admin;

import dev.regmirror.core.admin.ImageArchiveWriter;
import dev.regmirror.core.admin.PurgeSelection;
import dev.regmirror.core.manifest.PlatformFilter;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.reference.ImageReference;
import io.netty.handler.codec.http.HttpMethod;
import java.util.Optional;

/** A validated admin API request, one type per resource, as {@link AdminRequestDecoder} makes them. */
public sealed interface AdminRequest {

    HttpMethod method();

    boolean keepAlive();

    default boolean isHead() {
        return HttpMethod.HEAD.equals(method());
    }

    /** {@code GET /admin/usage}. */
    record Usage(HttpMethod method, boolean keepAlive) implements AdminRequest {
    }

    /**
     * {@code GET /admin/images}: the repositories whose names start with {@code prefix} (the
     * upstream filter is a prefix too), {@code n} after {@code last}.
     */
    record Images(HttpMethod method, boolean keepAlive, Optional<String> upstream, Optional<String> prefix, int n,
                  Optional<String> last) implements AdminRequest {
    }

    /** {@code POST /admin/prefetch}: pull the image (the platforms of it, all if none are named) into the cache. */
    record Prefetch(HttpMethod method, boolean keepAlive, ImageReference image, PlatformFilter platforms)
            implements AdminRequest {
    }

    /** {@code POST /admin/verify}: start a verify of the whole cache, or answer the one running. */
    record Verify(HttpMethod method, boolean keepAlive) implements AdminRequest {
    }

    /** {@code GET /admin/jobs} (every job kept, {@code id} empty) or {@code GET /admin/jobs/<id>}. */
    record Jobs(HttpMethod method, boolean keepAlive, Optional<String> id) implements AdminRequest {
    }

    /** {@code DELETE /admin/cache}: purge what the selection names, or with {@code dryRun} only say what. */
    record Purge(HttpMethod method, boolean keepAlive, PurgeSelection selection, boolean dryRun) implements AdminRequest {
    }

    /** {@code POST /admin/prune}: remove untagged manifests and unreferenced blobs, or with {@code dryRun} only say what. */
    record Prune(HttpMethod method, boolean keepAlive, boolean dryRun) implements AdminRequest {
    }

    /**
     * {@code GET /admin/tags}: every cached and hosted tag as one flat list, those whose
     * {@code repository:tag} or digest contains {@code query}, sorted by {@code sort}, {@code n}
     * from {@code offset}: what the console's image table pages through.
     */
    record Tags(HttpMethod method, boolean keepAlive, Optional<String> query, TagSort sort, boolean descending,
                int offset, int n) implements AdminRequest {
    }

    /** {@code GET /admin/image?repository=&digest=}: one cached image's platforms and blobs, and who shares them. */
    record Image(HttpMethod method, boolean keepAlive, String repository, Digest digest)
            implements AdminRequest {
    }

    /**
     * {@code GET /admin/export?image=}: the cached or hosted image as a tar, a docker-archive (also an
     * OCI layout) or with {@code OCI} only the layout; from an index the image for {@code platform}.
     * {@code namespace} is {@code ?ns=}, the registry the image is routed to, as containerd names it.
     */
    record Export(HttpMethod method, boolean keepAlive, ImageReference image, Optional<String> namespace,
                  ImageArchiveWriter.Format format, String platform) implements AdminRequest {
    }

    /** {@code GET /admin/upstreams}: each upstream's endpoints, pull quota and request counts. */
    record Upstreams(HttpMethod method, boolean keepAlive) implements AdminRequest {
    }

    /** {@code GET /admin/cluster}: the nodes of this node's cluster and their states, and who owns {@code digest}. */
    record Cluster(HttpMethod method, boolean keepAlive, Optional<Digest> digest) implements AdminRequest {
    }

    /** {@code GET /admin/history}: the meters sampled over the last hour and day. */
    record History(HttpMethod method, boolean keepAlive) implements AdminRequest {
    }
}
