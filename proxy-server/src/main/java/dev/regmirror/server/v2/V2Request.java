package dev.regmirror.server.v2;

import dev.regmirror.core.auth.Authorization;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.reference.Reference;
import dev.regmirror.core.upstream.Route;
import dev.regmirror.server.http.ByteRange;
import io.netty.handler.codec.http.HttpMethod;
import java.util.List;
import java.util.Map;
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
            return host.map(value -> value.replaceAll(":[0-9]+$", ""));
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

    /** A request that names an image: what access rules decide on. */
    sealed interface OfImage extends V2Request permits Manifest, Blob, Tags {

        Route route();
    }
}
