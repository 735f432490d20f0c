package dev.regmirror.server.v2;

import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.reference.Reference;
import dev.regmirror.core.upstream.Route;
import dev.regmirror.server.http.ByteRange;
import io.netty.handler.codec.http.HttpMethod;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * A request of the registry API, parsed and validated at the edge: each kind goes to the one
 * handler of its resource. Carries the few request headers the handlers need, because the Netty
 * request is released once decoded.
 */
public sealed interface V2Request {

    /** GET or HEAD. */
    HttpMethod method();

    /** Whether the client wants the connection kept open. */
    boolean keepAlive();

    default boolean isHead() {
        return HttpMethod.HEAD.equals(method());
    }

    /** {@code /v2/}: the API version check. */
    record Base(HttpMethod method, boolean keepAlive) implements V2Request {
    }

    /** {@code /v2/<name>/manifests/<reference>}. */
    record Manifest(HttpMethod method, boolean keepAlive, Route route, Reference reference,
                    List<String> accept, String ifNoneMatch) implements V2Request {
    }

    /**
     * {@code /v2/<name>/blobs/<digest>}.
     *
     * @param range the one byte range asked for, empty for the whole blob
     */
    record Blob(HttpMethod method, boolean keepAlive, Route route, Digest digest, Optional<ByteRange> range)
            implements V2Request {
    }

    /**
     * {@code /v2/<name>/tags/list}: one page of tags, answered in the client's own naming.
     *
     * @param requestedName the name as the client wrote it, for the answer's {@code name}
     * @param path          the request's path, for the next page's {@code Link}
     * @param namespace     the {@code ns} query parameter, kept in the next page's {@code Link}
     */
    record Tags(HttpMethod method, boolean keepAlive, Route route, String requestedName, String path,
                Optional<String> namespace, OptionalInt n, Optional<String> last) implements V2Request {
    }

    /** {@code /v2/_catalog}: one page of the repositories held in the cache. */
    record Catalog(HttpMethod method, boolean keepAlive, OptionalInt n, Optional<String> last) implements V2Request {
    }
}
