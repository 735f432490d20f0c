package dev.regmirror.server.pipeline;

import dev.regmirror.core.error.InvalidRequestException;
import dev.regmirror.core.error.ProxyException;
import dev.regmirror.core.error.RegistryErrorCode;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.reference.Reference;
import dev.regmirror.core.upstream.UpstreamRouter;
import dev.regmirror.server.http.ErrorResponder;
import dev.regmirror.server.v2.V2Request;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpUtil;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns an HTTP request into a validated {@link V2Request} for the resource handlers, or answers
 * it with a registry error: wrong method 405 UNSUPPORTED, bad name 400 NAME_INVALID, bad digest
 * 400 DIGEST_INVALID, unknown path 404; a request that is not even valid HTTP closes the
 * connection. Percent-encoded paths are refused outright, so no encoded
 * slash or dot ever reaches routing or the file system.
 */
@Sharable
public final class V2RequestDecoder extends SimpleChannelInboundHandler<FullHttpRequest> {

    private static final Pattern MANIFEST = Pattern.compile("/v2/(.+)/manifests/([^/]+)");
    private static final Pattern BLOB = Pattern.compile("/v2/(.+)/blobs/([^/]+)");

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
        String uri = request.uri();
        int query = uri.indexOf('?');
        String path = query < 0 ? uri : uri.substring(0, query);
        if (!path.equals("/v2") && !path.startsWith("/v2/")) {
            throw new InvalidRequestException(RegistryErrorCode.NOT_FOUND,
                    "no such endpoint: the registry API is under /v2/");
        }
        if (!HttpMethod.GET.equals(method) && !HttpMethod.HEAD.equals(method)) {
            throw new InvalidRequestException(RegistryErrorCode.UNSUPPORTED,
                    "regmirror is a read-only mirror: " + method.name() + " is not supported");
        }
        if (path.indexOf('%') >= 0) {
            throw new InvalidRequestException(RegistryErrorCode.NAME_INVALID,
                    "percent-encoded characters are not allowed in registry API paths");
        }
        if (path.equals("/v2") || path.equals("/v2/")) {
            return new V2Request.Base(method, keepAlive);
        }
        Matcher manifest = MANIFEST.matcher(path);
        if (manifest.matches()) {
            return new V2Request.Manifest(method, keepAlive, router.route(manifest.group(1)),
                    Reference.parse(manifest.group(2)), request.headers().getAll(HttpHeaderNames.ACCEPT),
                    request.headers().get(HttpHeaderNames.IF_NONE_MATCH));
        }
        Matcher blob = BLOB.matcher(path);
        if (blob.matches()) {
            return new V2Request.Blob(method, keepAlive, router.route(blob.group(1)), Digest.parse(blob.group(2)));
        }
        throw new InvalidRequestException(RegistryErrorCode.NOT_FOUND, "no such endpoint: " + path);
    }
}
