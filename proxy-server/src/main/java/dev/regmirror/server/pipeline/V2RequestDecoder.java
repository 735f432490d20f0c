package dev.regmirror.server.pipeline;

import dev.regmirror.core.auth.Authorization;
import dev.regmirror.core.error.InvalidRequestException;
import dev.regmirror.core.error.ProxyException;
import dev.regmirror.core.error.RegistryErrorCode;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.hosted.UploadId;
import dev.regmirror.core.reference.Reference;
import dev.regmirror.core.upstream.Route;
import dev.regmirror.core.upstream.RouteRequest;
import dev.regmirror.core.upstream.UpstreamRouter;
import dev.regmirror.server.http.ByteRange;
import dev.regmirror.server.http.ErrorResponder;
import dev.regmirror.server.v2.ContinueHandler;
import dev.regmirror.server.v2.V2Request;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns an HTTP request into a validated {@link V2Request} for the resource handlers, or answers
 * it with a registry error: wrong method 405 UNSUPPORTED, bad name 400 NAME_INVALID, bad digest
 * 400 DIGEST_INVALID, unknown path 404; a request that is not even valid HTTP closes the
 * connection. Besides {@code /v2/...} it takes containerd's mirror form {@code /<registry>/v2/...}.
 * Percent-encoded paths are refused outright, so no encoded slash or dot ever reaches routing or
 * the file system. A blob request's {@code Range} is parsed here too ({@link ByteRange}).
 *
 * <p>Pushes ({@link V2Request.WithBody}) come as a head whose body follows unaggregated
 * ({@link StreamingAggregator}); the body's {@code HttpContent} passes on behind the request. A push
 * refused here is answered at once and its connection closed, since its body was not read. Writes
 * go to hosted repositories only: on a mirrored name they are 405 UNSUPPORTED.
 */
@Sharable
public final class V2RequestDecoder extends SimpleChannelInboundHandler<HttpRequest> {

    private static final Pattern REGISTRY_PREFIXED = Pattern.compile("/([^/]+)(/v2(/.*)?)");
    private static final Pattern TAGS = Pattern.compile("/v2/(.+)/tags/list");
    private static final Pattern UPLOADS = Pattern.compile("/v2/(.+)/blobs/uploads/?");
    private static final Pattern UPLOAD = Pattern.compile("/v2/(.+)/blobs/uploads/([^/]+)");
    private static final Pattern REFERRERS = Pattern.compile("/v2/(.+)/referrers/([^/]+)");
    private static final String READ_ONLY = "GET, HEAD";
    private static final int MAX_PAGE = 10_000;
    /** The token endpoint of the Docker token flow, served on the registry listeners themselves. */
    public static final String TOKEN_PATH = "/token";

    private final UpstreamRouter router;
    private final ErrorResponder errors;

    public V2RequestDecoder(UpstreamRouter router, ErrorResponder errors) {
        this.router = router;
        this.errors = errors;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, HttpRequest request) {
        // A head without its body: a push whose body follows (see StreamingAggregator).
        boolean streamed = !(request instanceof FullHttpRequest);
        boolean keepAlive = HttpUtil.isKeepAlive(request) && !streamed;
        HttpMethod method = request.method();
        try {
            if (!request.decoderResult().isSuccess()) {
                ctx.close();
                return;
            }
            V2Request decoded = decode(request, method, HttpUtil.isKeepAlive(request));
            if (decoded instanceof V2Request.WithBody) {
                if (HttpUtil.is100ContinueExpected(request)) {
                    ContinueHandler.expect(ctx.channel()); // answered once access is decided
                }
                ctx.fireChannelRead(decoded);
                if (!streamed) {
                    // An HTTP/2 push whose body came with its head: passed on as the body a handler takes.
                    ctx.fireChannelRead(new DefaultLastHttpContent(((FullHttpRequest) request).content().retain()));
                }
                return;
            }
            if (streamed) {
                throw new InvalidRequestException(RegistryErrorCode.UNSUPPORTED, method.name() + " "
                        + RequestTarget.rawPathOf(request.uri()) + " takes no body");
            }
            ctx.fireChannelRead(decoded);
        } catch (ProxyException e) {
            errors.send(ctx, method, keepAlive, e);
        }
    }

    private V2Request decode(HttpRequest request, HttpMethod method, boolean keepAlive) {
        String fullPath = RequestTarget.rawPathOf(request.uri());
        if (fullPath.indexOf('%') >= 0) {
            throw new InvalidRequestException(RegistryErrorCode.NAME_INVALID,
                    "percent-encoded characters are not allowed in registry API paths");
        }
        RequestTarget uri = RequestTarget.parse(request.uri());
        V2Request.Origin origin = new V2Request.Origin(
                Authorization.parse(request.headers().get(HttpHeaderNames.AUTHORIZATION)),
                Optional.ofNullable(request.headers().get(HttpHeaderNames.HOST)));
        Optional<String> host = origin.hostName();
        if (fullPath.equals(TOKEN_PATH)) {
            return token(request, method, keepAlive, uri, origin);
        }
        Optional<String> namespace = uri.parameter("ns");
        String path = fullPath;
        if (!isApiPath(path)) {
            Matcher prefixed = REGISTRY_PREFIXED.matcher(path);
            if (!prefixed.matches() || !router.serves(prefixed.group(1))) {
                throw new InvalidRequestException(RegistryErrorCode.NOT_FOUND,
                        "no such endpoint: the registry API is under /v2/ (or /<registry>/v2/ for containerd)");
            }
            namespace = namespace.or(() -> Optional.of(prefixed.group(1)));
            path = prefixed.group(2);
        }
        String base = fullPath.substring(0, fullPath.length() - path.length()) + "/v2/";
        if (path.equals("/v2") || path.equals("/v2/")) {
            readOnly(method, path);
            return new V2Request.Base(method, keepAlive, origin);
        }
        if (path.equals("/v2/_catalog")) {
            readOnly(method, path);
            return new V2Request.Catalog(method, keepAlive, uri.pageSize(MAX_PAGE), uri.parameter("last"),
                    origin);
        }
        Optional<String> ns = uri.parameter("ns");
        // Each pattern runs only on a path holding its resource's word: a regular expression with a
        // leading (.+) backtracks over the whole path, and every request would pay for all of them.
        boolean uploadPath = path.contains("/blobs/uploads");
        Matcher uploads = UPLOADS.matcher(path);
        if (uploadPath && uploads.matches()) {
            Route route = writable(method, Set.of(HttpMethod.POST), path,
                    router.route(new RouteRequest(uploads.group(1), namespace, host)));
            Optional<String> routedBy = namespace;
            Optional<Route> from = uri.parameter("from")
                    .map(name -> router.route(new RouteRequest(name, routedBy, host)));
            return new V2Request.UploadStart(method, keepAlive, route, uri.parameter("digest").map(Digest::parse),
                    uri.parameter("mount").map(Digest::parse), from, contentLength(request),
                    new V2Request.Written(base, uploads.group(1), ns), origin);
        }
        Matcher upload = UPLOAD.matcher(path);
        if (uploadPath && upload.matches()) {
            Route route = writable(method, Set.of(HttpMethod.GET, HttpMethod.HEAD, HttpMethod.PATCH, HttpMethod.PUT,
                    HttpMethod.DELETE), path, router.route(new RouteRequest(upload.group(1), namespace, host)));
            UploadId id = new UploadId(upload.group(2));
            V2Request.Written written = new V2Request.Written(base, upload.group(1), ns);
            Optional<String> contentRange = Optional.ofNullable(request.headers().get(HttpHeaderNames.CONTENT_RANGE));
            if (HttpMethod.PATCH.equals(method)) {
                return new V2Request.UploadChunk(method, keepAlive, route, id, contentRange, contentLength(request),
                        written, origin);
            }
            if (HttpMethod.PUT.equals(method)) {
                Digest digest = uri.parameter("digest").map(Digest::parse).orElseThrow(() -> new InvalidRequestException(
                        RegistryErrorCode.DIGEST_INVALID, "PUT of an upload needs ?digest=<digest of the blob>"));
                return new V2Request.UploadFinish(method, keepAlive, route, id, digest, contentRange,
                        contentLength(request), written, origin);
            }
            return new V2Request.UploadStatus(method, keepAlive, route, id, written, origin);
        }
        NameAndLast manifest = NameAndLast.of(path, "/manifests/");
        if (manifest != null) {
            Route route = router.route(new RouteRequest(manifest.group(1), namespace, host));
            if (HttpMethod.GET.equals(method) || HttpMethod.HEAD.equals(method)) {
                return new V2Request.Manifest(method, keepAlive, route, manifestReference(manifest.group(2), false),
                        request.headers().getAll(HttpHeaderNames.ACCEPT),
                        request.headers().get(HttpHeaderNames.IF_NONE_MATCH), origin);
            }
            writable(method, Set.of(HttpMethod.PUT, HttpMethod.DELETE), path, route);
            if (HttpMethod.PUT.equals(method)) {
                return new V2Request.ManifestPut(method, keepAlive, route, manifestReference(manifest.group(2), true),
                        Optional.ofNullable(request.headers().get(HttpHeaderNames.CONTENT_TYPE)), contentLength(request),
                        new V2Request.Written(base, manifest.group(1), ns), origin);
            }
            return new V2Request.Delete(method, keepAlive, route, Optional.of(manifestReference(manifest.group(2), false)),
                    Optional.empty(), origin);
        }
        NameAndLast blob = NameAndLast.of(path, "/blobs/");
        if (blob != null) {
            Digest digest = Digest.parse(blob.group(2));
            Route route = router.route(new RouteRequest(blob.group(1), namespace, host));
            if (HttpMethod.DELETE.equals(method)) {
                writable(method, Set.of(HttpMethod.DELETE), path, route);
                return new V2Request.Delete(method, keepAlive, route, Optional.empty(), Optional.of(digest), origin);
            }
            readOnly(method, path);
            return new V2Request.Blob(method, keepAlive, route, digest, range(request, digest), origin);
        }
        Matcher tags = TAGS.matcher(path);
        if (path.endsWith("/tags/list") && tags.matches()) {
            readOnly(method, path);
            return new V2Request.Tags(method, keepAlive, router.route(new RouteRequest(tags.group(1), namespace, host)),
                    tags.group(1), fullPath, uri.parameter("ns"), uri.pageSize(MAX_PAGE), uri.parameter("last"),
                    origin);
        }
        Matcher referrers = REFERRERS.matcher(path);
        if (path.contains("/referrers/") && referrers.matches()) {
            readOnly(method, path);
            return new V2Request.Referrers(method, keepAlive,
                    router.route(new RouteRequest(referrers.group(1), namespace, host)),
                    Digest.parse(referrers.group(2)), uri.parameter("artifactType"), origin);
        }
        throw new InvalidRequestException(RegistryErrorCode.NOT_FOUND, "no such endpoint: " + fullPath);
    }

    /** A path that only reads: GET or HEAD, else 405 UNSUPPORTED. */
    private static void readOnly(HttpMethod method, String path) {
        if (!HttpMethod.GET.equals(method) && !HttpMethod.HEAD.equals(method)) {
            throw new InvalidRequestException(RegistryErrorCode.UNSUPPORTED, method.name() + " " + path
                    + " is not supported", null, Map.of("Allow", READ_ONLY));
        }
    }

    /**
     * A write (or an upload's status) on a repository: the method must be one the path takes, and
     * the repository hosted here, else 405 UNSUPPORTED, as distribution answers pushes to a pull-through cache.
     */
    private static Route writable(HttpMethod method, Set<HttpMethod> allowed, String path, Route route) {
        if (!allowed.contains(method)) {
            throw new InvalidRequestException(RegistryErrorCode.UNSUPPORTED, method.name() + " " + path
                    + " is not supported", null, Map.of("Allow", allowed.stream().map(HttpMethod::name).sorted()
                    .collect(java.util.stream.Collectors.joining(", "))));
        }
        if (!route.hosted()) {
            throw new InvalidRequestException(RegistryErrorCode.UNSUPPORTED, route + " is mirrored from "
                    + route.registry() + ", which regmirror never writes to: push to a hosted repository "
                    + "(regmirror.hosted)", null, Map.of("Allow", READ_ONLY));
        }
        return route;
    }

    /**
     * A manifest's reference. To read one, a reference that is not a valid tag names no manifest:
     * 404 MANIFEST_UNKNOWN, as distribution answers; a malformed digest stays 400 DIGEST_INVALID.
     * To push one, it is 400 TAG_INVALID.
     */
    private static Reference manifestReference(String value, boolean push) {
        if (value.indexOf(':') >= 0) {
            return Reference.parse(value);
        }
        try {
            return Reference.parse(value);
        } catch (InvalidRequestException e) {
            throw new InvalidRequestException(push ? RegistryErrorCode.TAG_INVALID : RegistryErrorCode.MANIFEST_UNKNOWN,
                    e.getMessage());
        }
    }

    private static java.util.OptionalLong contentLength(HttpRequest request) {
        long length = HttpUtil.getContentLength(request, -1L);
        return length < 0 ? java.util.OptionalLong.empty() : java.util.OptionalLong.of(length);
    }

    /**
     * {@code GET /token?...}, or {@code POST /token} with an OAuth2 form ({@code
     * application/x-www-form-urlencoded}, as containerd sends with credentials).
     */
    private static V2Request token(HttpRequest request, HttpMethod method, boolean keepAlive, RequestTarget uri,
                                   V2Request.Origin origin) {
        if (HttpMethod.GET.equals(method) || HttpMethod.HEAD.equals(method)) {
            return new V2Request.Token(method, keepAlive, uri.parameters(), origin);
        }
        if (!HttpMethod.POST.equals(method)) {
            throw new InvalidRequestException(RegistryErrorCode.UNSUPPORTED, method.name() + " " + TOKEN_PATH
                    + " is not supported", null, Map.of("Allow", "GET, HEAD, POST"));
        }
        if (!(request instanceof FullHttpRequest full)) {
            throw new InvalidRequestException(RegistryErrorCode.UNSUPPORTED, "POST " + TOKEN_PATH + " takes a form");
        }
        String form = full.content().toString(StandardCharsets.UTF_8);
        return new V2Request.Token(method, keepAlive, RequestTarget.parse("?" + form).parameters(), origin);
    }

    /**
     * The byte range a blob request asks for. A Range sent more than once is ignored, and so is one
     * whose If-Range names anything but this blob's ETag: a blob never changes under its digest,
     * but an If-Range date cannot be checked without a Last-Modified (RFC 9110 §13.1.5).
     */
    private static Optional<ByteRange> range(HttpRequest request, Digest digest) {
        List<String> ranges = request.headers().getAll(HttpHeaderNames.RANGE);
        String ifRange = request.headers().get(HttpHeaderNames.IF_RANGE);
        if (ranges.size() != 1 || ifRange != null && !ifRange.trim().equals("\"" + digest + "\"")) {
            return Optional.empty();
        }
        return ByteRange.parse(ranges.get(0));
    }

    /**
     * {@code /v2/<name>/<resource>/<last>} taken apart as {@code /v2/(.+)/<resource>/([^/]+)} would
     * (the last occurrence of the resource's word, a name without line terminators), with two
     * index searches instead of a backtracking match: the manifest and blob paths are every pull's.
     */
    private record NameAndLast(String name, String last) {

        String group(int group) {
            return group == 1 ? name : last;
        }

        static NameAndLast of(String path, String resource) {
            int at = path.lastIndexOf(resource);
            int lastStarts = at + resource.length();
            if (!path.startsWith("/v2/") || at <= 3 || lastStarts == path.length()
                    || path.indexOf('/', lastStarts) >= 0) {
                return null;
            }
            String name = path.substring(4, at);
            for (int i = 0; i < name.length(); i++) {
                char c = name.charAt(i);
                if (c == '\n' || c == '\r' || c == '\u0085' || c == '\u2028' || c == '\u2029') {
                    return null; // what '.' does not match
                }
            }
            return name.isEmpty() ? null : new NameAndLast(name, path.substring(lastStarts));
        }
    }

    private static boolean isApiPath(String path) {
        return path.equals("/v2") || path.startsWith("/v2/");
    }
}
