package dev.regmirror.server.v2;

import dev.regmirror.core.auth.Action;
import dev.regmirror.core.auth.Authorization;
import dev.regmirror.core.hosted.UploadId;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.reference.Reference;
import dev.regmirror.core.upstream.Route;
import dev.regmirror.server.http.ByteRange;
import io.netty.handler.codec.http.HttpMethod;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * A request of the registry API, parsed and validated at the edge: each kind goes to the one
 * handler of its resource. Carries the few request headers the handlers need, because the Netty
 * request is released once decoded.
 */
public sealed interface V2Request {

    /** The request's method. */
    HttpMethod method();

    /** Whether the client wants the connection kept open. */
    boolean keepAlive();

    /** Who sent it: the credentials and the host name the client presented. */
    Origin origin();

    /** The request's credentials, as its {@code Authorization} header gave them. */
    default Authorization authorization() {
        return origin().authorization();
    }

    /**
     * What the client presented besides its request: its {@code Authorization} header, parsed, and
     * its {@code Host} header as sent (with the port), which names this mirror as the client
     * reaches it (for the token endpoint's URL in a challenge).
     */
    record Origin(Authorization authorization, Optional<String> host) {

        /** No credentials, no Host. */
        public static final Origin NONE = new Origin(new Authorization.None(), Optional.empty());

        /** The Host without its port, as routing by host name takes it. */
        public Optional<String> hostName() {
            return host.map(Origin::withoutPort);
        }

        /** The value without a trailing {@code :<digits>} (what {@code replaceAll(":[0-9]+$", "")} took off). */
        private static String withoutPort(String value) {
            int colon = value.lastIndexOf(':');
            if (colon < 0 || colon == value.length() - 1) {
                return value;
            }
            for (int i = colon + 1; i < value.length(); i++) {
                char c = value.charAt(i);
                if (c < '0' || c > '9') {
                    return value;
                }
            }
            return value.substring(0, colon);
        }
    }

    default boolean isHead() {
        return HttpMethod.HEAD.equals(method());
    }

    /** {@code /v2/}: the API version check. */
    record Base(HttpMethod method, boolean keepAlive, Origin origin) implements V2Request {
    }

    /** {@code /v2/<name>/manifests/<reference>}. */
    record Manifest(HttpMethod method, boolean keepAlive, Route route, Reference reference,
                    List<String> accept, String ifNoneMatch, Origin origin) implements OfImage {
    }

    /**
     * {@code /v2/<name>/blobs/<digest>}.
     *
     * @param range the one byte range asked for, empty for the whole blob
     */
    record Blob(HttpMethod method, boolean keepAlive, Route route, Digest digest, Optional<ByteRange> range,
                Origin origin) implements OfImage {
    }

    /**
     * {@code /v2/<name>/tags/list}: one page of tags, answered in the client's own naming.
     *
     * @param requestedName the name as the client wrote it, for the answer's {@code name}
     * @param path          the request's path, for the next page's {@code Link}
     * @param namespace     the {@code ns} query parameter, kept in the next page's {@code Link}
     */
    record Tags(HttpMethod method, boolean keepAlive, Route route, String requestedName, String path,
                Optional<String> namespace, OptionalInt n, Optional<String> last, Origin origin)
            implements OfImage {
    }

    /** {@code /v2/_catalog}: one page of the repositories held in the cache. */
    record Catalog(HttpMethod method, boolean keepAlive, OptionalInt n, Optional<String> last,
                   Origin origin) implements V2Request {
    }

    /**
     * {@code GET /token} (or {@code POST}, an OAuth2 form): the token endpoint of the Docker token
     * flow, when accounts or rules are configured.
     *
     * @param parameters the query's parameters, or the form's for a POST
     */
    record Token(HttpMethod method, boolean keepAlive, Map<String, List<String>> parameters,
                 Origin origin) implements V2Request {

        public Token {
            parameters = Map.copyOf(parameters);
        }
    }

    /**
     * {@code GET|HEAD /v2/<name>/referrers/<digest>}: the manifests whose {@code subject} is that digest.
     *
     * @param artifactType the {@code artifactType} filter, if asked for
     */
    record Referrers(HttpMethod method, boolean keepAlive, Route route, Digest subject, Optional<String> artifactType,
                     Origin origin) implements OfImage {
    }

    /**
     * {@code POST /v2/<name>/blobs/uploads/}: starts an upload to a hosted repository; with
     * {@code ?digest=} a monolithic upload whose body follows; with {@code ?mount=} (and {@code from})
     * a cross-repository mount.
     *
     * @param from the repository {@code from} names, routed as the client wrote it
     */
    record UploadStart(HttpMethod method, boolean keepAlive, Route route, Optional<Digest> digest,
                       Optional<Digest> mount, Optional<Route> from, OptionalLong contentLength, Written written,
                       Origin origin) implements WithBody {

        /** This mount, from a repository found to hold the blob (for a mount that named none). */
        public UploadStart from(Route source) {
            return new UploadStart(method, keepAlive, route, digest, mount, Optional.of(source), contentLength, written,
                    origin);
        }

        @Override
        public List<Access> access() {
            List<Access> needs = new java.util.ArrayList<>(List.of(new Access(route, Action.PUSH)));
            from.filter(other -> !other.equals(route)).ifPresent(other -> needs.add(new Access(other, Action.PULL)));
            return List.copyOf(needs);
        }
    }

    /**
     * {@code PATCH /v2/<name>/blobs/uploads/<id>}: a chunk of an upload, its body following.
     *
     * @param contentRange the {@code Content-Range} header as sent ({@code <first>-<last>}), if any
     */
    record UploadChunk(HttpMethod method, boolean keepAlive, Route route, UploadId id, Optional<String> contentRange,
                       OptionalLong contentLength, Written written, Origin origin) implements WithBody {

        @Override
        public List<Access> access() {
            return List.of(new Access(route, Action.PUSH));
        }
    }

    /** {@code PUT /v2/<name>/blobs/uploads/<id>?digest=}: the last (possibly empty) chunk, and the commit. */
    record UploadFinish(HttpMethod method, boolean keepAlive, Route route, UploadId id, Digest digest,
                        Optional<String> contentRange, OptionalLong contentLength, Written written, Origin origin)
            implements WithBody {

        @Override
        public List<Access> access() {
            return List.of(new Access(route, Action.PUSH));
        }
    }

    /** {@code GET /v2/<name>/blobs/uploads/<id>}: how far an upload got; {@code DELETE}: cancels it. */
    record UploadStatus(HttpMethod method, boolean keepAlive, Route route, UploadId id, Written written,
                        Origin origin) implements OfImage {

        @Override
        public List<Access> access() {
            return List.of(new Access(route, Action.PUSH));
        }

        public boolean cancel() {
            return HttpMethod.DELETE.equals(method);
        }
    }

    /**
     * {@code PUT /v2/<name>/manifests/<reference>}: a manifest pushed to a hosted repository, its body
     * following.
     */
    record ManifestPut(HttpMethod method, boolean keepAlive, Route route, Reference reference,
                       Optional<String> contentType, OptionalLong contentLength, Written written, Origin origin)
            implements WithBody {

        @Override
        public List<Access> access() {
            return List.of(new Access(route, Action.PUSH));
        }
    }

    /** {@code DELETE /v2/<name>/manifests/<reference>} or {@code DELETE /v2/<name>/blobs/<digest>}. */
    record Delete(HttpMethod method, boolean keepAlive, Route route, Optional<Reference> manifest,
                  Optional<Digest> blob, Origin origin) implements OfImage {

        public Delete {
            if (manifest.isPresent() == blob.isPresent()) {
                throw new IllegalArgumentException("a delete names a manifest or a blob");
            }
        }

        @Override
        public List<Access> access() {
            return List.of(new Access(route, Action.DELETE));
        }
    }

    /**
     * The repository as the client wrote it, for the URLs an answer gives back ({@code Location}):
     * the API's base ({@code /v2/}, or containerd's {@code /<registry>/v2/}), the name, and
     * {@code ?ns=}, which a URL given back keeps so that it routes as the request did.
     */
    record Written(String base, String name, Optional<String> namespace) {

        /** The path (with {@code ?ns=} if the request had it) of something under this repository: {@code blobs/uploads/<id>}. */
        public String url(String under) {
            return base + name + "/" + under + namespace.map(ns -> "?ns=" + ns).orElse("");
        }

        /** As {@link #url}, with one more query parameter (already encoded). */
        public String url(String under, String parameter) {
            return base + name + "/" + under + namespace.map(ns -> "?ns=" + ns + "&").orElse("?") + parameter;
        }
    }

    /** An action on a repository that a request needs the rules to allow. */
    record Access(Route route, Action action) {
    }

    /** A request that names an image: what access rules decide on. */
    sealed interface OfImage extends V2Request
            permits Manifest, Blob, Tags, Referrers, UploadStatus, Delete, WithBody {

        Route route();

        /** What the access rules must allow for it: pulling its repository, unless it writes. */
        default List<Access> access() {
            return List.of(new Access(route(), Action.PULL));
        }
    }

    /**
     * A push whose body follows this request as {@code HttpContent} messages, up to and with a
     * {@code LastHttpContent}: not aggregated, so a layer of any size streams to disk. The handler
     * that takes the request takes its body too.
     */
    sealed interface WithBody extends OfImage permits UploadStart, UploadChunk, UploadFinish, ManifestPut {

        /** The {@code Content-Length} the client declared, if any. */
        OptionalLong contentLength();
    }
}
