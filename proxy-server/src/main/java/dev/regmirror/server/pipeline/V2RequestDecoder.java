package dev.regmirror.server.pipeline;

import dev.regmirror.core.auth.Authorization;
import dev.regmirror.core.error.InvalidRequestException;
import dev.regmirror.core.error.ProxyException;
import dev.regmirror.core.error.RegistryErrorCode;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.reference.Reference;
import dev.regmirror.core.upstream.RouteRequest;
import dev.regmirror.core.upstream.UpstreamRouter;
import dev.regmirror.server.http.ByteRange;
import dev.regmirror.server.http.ErrorResponder;
import dev.regmirror.server.v2.V2Request;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpUtil;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns an HTTP request into a validated {@link V2Request} for the resource handlers, or answers
 * it with a registry error: wrong method 405 UNSUPPORTED, bad name 400 NAME_INVALID, bad digest
 * 400 DIGEST_INVALID, unknown path 404; a request that is not even valid HTTP closes the
 * connection. Besides {@code /v2/...} it takes containerd's mirror form {@code /<registry>/v2/...}.
 * Percent-encoded paths are refused outright, so no encoded slash or dot ever reaches routing or
 * the file system. A blob request's {@code Range} is parsed here too ({@link ByteRange}).
 */
@Sharable
public final class V2RequestDecoder extends SimpleChannelInboundHandler<FullHttpRequest> {

    private static final Pattern REGISTRY_PREFIXED = Pattern.compile("/([^/]+)(/v2(/.*)?)");
    private static final Pattern MANIFEST = Pattern.compile("/v2/(.+)/manifests/([^/]+)");
    private static final Pattern BLOB = Pattern.compile("/v2/(.+)/blobs/([^/]+)");
    private static final Pattern TAGS = Pattern.compile("/v2/(.+)/tags/list");
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
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
        boolean keepAlive = HttpUtil.isKeepAlive(request);
        HttpMethod method = request.method();
        try {
            if (!request.decoderResult().isSuccess()) {
                ctx.close();
                return;
            }
            ctx.fireChannelRead(decode(request, method, keepAlive));
        } catch (ProxyException e) {
            errors.send(ctx, method, keepAlive, e);
        }
    }

    private V2Request decode(FullHttpRequest request, HttpMethod method, boolean keepAlive) {
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
            if (!prefixed.matches() || router.upstreamNamed(prefixed.group(1)).isEmpty()) {
                throw new InvalidRequestException(RegistryErrorCode.NOT_FOUND,
                        "no such endpoint: the registry API is under /v2/ (or /<registry>/v2/ for containerd)");
            }
            namespace = namespace.or(() -> Optional.of(prefixed.group(1)));
            path = prefixed.group(2);
        }
        if (!HttpMethod.GET.equals(method) && !HttpMethod.HEAD.equals(method)) {
            throw new InvalidRequestException(RegistryErrorCode.UNSUPPORTED,
                    "regmirror is a read-only mirror: " + method.name() + " is not supported");
        }
        if (path.equals("/v2") || path.equals("/v2/")) {
            return new V2Request.Base(method, keepAlive, origin);
        }
        if (path.equals("/v2/_catalog")) {
            return new V2Request.Catalog(method, keepAlive, uri.pageSize(MAX_PAGE), uri.parameter("last"),
                    origin);
        }
        Matcher manifest = MANIFEST.matcher(path);
        if (manifest.matches()) {
            return new V2Request.Manifest(method, keepAlive, router.route(new RouteRequest(manifest.group(1), namespace, host)),
                    Reference.parse(manifest.group(2)), request.headers().getAll(HttpHeaderNames.ACCEPT),
                    request.headers().get(HttpHeaderNames.IF_NONE_MATCH), origin);
        }
        Matcher blob = BLOB.matcher(path);
        if (blob.matches()) {
            Digest digest = Digest.parse(blob.group(2));
            return new V2Request.Blob(method, keepAlive, router.route(new RouteRequest(blob.group(1), namespace, host)),
                    digest, range(request, digest), origin);
        }
        Matcher tags = TAGS.matcher(path);
        if (tags.matches()) {
            return new V2Request.Tags(method, keepAlive, router.route(new RouteRequest(tags.group(1), namespace, host)),
                    tags.group(1), fullPath, uri.parameter("ns"), uri.pageSize(MAX_PAGE), uri.parameter("last"),
                    origin);
        }
        throw new InvalidRequestException(RegistryErrorCode.NOT_FOUND, "no such endpoint: " + fullPath);
    }

    /**
     * {@code GET /token?...}, or {@code POST /token} with an OAuth2 form ({@code
     * application/x-www-form-urlencoded}, as containerd sends with credentials).
     */
    private static V2Request token(FullHttpRequest request, HttpMethod method, boolean keepAlive, RequestTarget uri,
                                   V2Request.Origin origin) {
        if (HttpMethod.GET.equals(method) || HttpMethod.HEAD.equals(method)) {
            return new V2Request.Token(method, keepAlive, uri.parameters(), origin);
        }
        if (!HttpMethod.POST.equals(method)) {
            throw new InvalidRequestException(RegistryErrorCode.UNSUPPORTED, method.name() + " " + TOKEN_PATH
                    + " is not supported", null, Map.of("Allow", "GET, HEAD, POST"));
        }
        String form = request.content().toString(StandardCharsets.UTF_8);
        return new V2Request.Token(method, keepAlive, RequestTarget.parse("?" + form).parameters(), origin);
    }

    /**
     * The byte range a blob request asks for. A Range sent more than once is ignored, and so is one
     * whose If-Range names anything but this blob's ETag: a blob never changes under its digest,
     * but an If-Range date cannot be checked without a Last-Modified (RFC 9110 §13.1.5).
     */
    private static Optional<ByteRange> range(FullHttpRequest request, Digest digest) {
        List<String> ranges = request.headers().getAll(HttpHeaderNames.RANGE);
        String ifRange = request.headers().get(HttpHeaderNames.IF_RANGE);
        if (ranges.size() != 1 || ifRange != null && !ifRange.trim().equals("\"" + digest + "\"")) {
            return Optional.empty();
        }
        return ByteRange.parse(ranges.get(0));
    }

    private static boolean isApiPath(String path) {
        return path.equals("/v2") || path.startsWith("/v2/");
    }
}
