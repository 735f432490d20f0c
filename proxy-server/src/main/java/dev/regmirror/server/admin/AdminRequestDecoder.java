package dev.regmirror.server.admin;

import dev.regmirror.core.error.InvalidRequestException;
import dev.regmirror.core.error.ProxyException;
import dev.regmirror.core.error.RegistryErrorCode;
import dev.regmirror.core.admin.ImageArchiveWriter;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.reference.ImageReference;
import dev.regmirror.core.upstream.UpstreamRouter;
import dev.regmirror.server.http.ErrorResponder;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpUtil;
import dev.regmirror.server.pipeline.RequestTarget;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Turns an authorized admin HTTP request into an {@link AdminRequest}, or answers it with an error:
 * unknown path 404 NOT_FOUND, a method the path does not take 405 UNSUPPORTED, a bad {@code n}
 * 400 PAGINATION_NUMBER_INVALID, a bad prefetch body 400 (see {@link PrefetchBody}); purge and
 * prune are decoded by {@link CleanupRequests}.
 */
@Sharable
public final class AdminRequestDecoder extends SimpleChannelInboundHandler<FullHttpRequest> {

    static final int DEFAULT_PAGE = 100;
    private static final int MAX_PAGE = 10_000;
    private static final int DEFAULT_TAGS_PAGE = 50;
    private static final int MAX_TAGS_PAGE = 1000;

    private final ErrorResponder errors;
    private final UpstreamRouter router;

    /** @param router resolves image names in purge selections as the registry API routes pulls */
    public AdminRequestDecoder(ErrorResponder errors, UpstreamRouter router) {
        this.errors = errors;
        this.router = router;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
        boolean keepAlive = HttpUtil.isKeepAlive(request);
        if (!request.decoderResult().isSuccess()) {
            ctx.close();
            return;
        }
        try {
            ctx.fireChannelRead(decode(request, keepAlive));
        } catch (ProxyException e) {
            errors.send(ctx, request.method(), keepAlive, e);
        }
    }

    private AdminRequest decode(FullHttpRequest request, boolean keepAlive) {
        RequestTarget uri = RequestTarget.parse(request.uri());
        String path = uri.rawPath();
        HttpMethod method = request.method();
        if (path.equals("/admin/prefetch")) {
            only(method, path, HttpMethod.POST);
            PrefetchBody body = PrefetchBody.parse(request.content());
            return new AdminRequest.Prefetch(method, keepAlive, body.image(), body.platforms());
        }
        if (path.equals("/admin/verify")) {
            only(method, path, HttpMethod.POST);
            return new AdminRequest.Verify(method, keepAlive);
        }
        if (path.equals("/admin/jobs") || path.startsWith("/admin/jobs/")) {
            only(method, path, HttpMethod.GET, HttpMethod.HEAD);
            String id = path.substring("/admin/jobs".length());
            return new AdminRequest.Jobs(method, keepAlive, id.length() <= 1 ? Optional.empty()
                    : Optional.of(id.substring(1)));
        }
        if (path.equals("/admin/cache") || path.equals("/admin/prune")) {
            return CleanupRequests.decode(path, method, keepAlive, uri.parameters(), router);
        }
        if (path.equals("/admin/tags")) {
            only(method, path, HttpMethod.GET, HttpMethod.HEAD);
            return new AdminRequest.Tags(method, keepAlive, uri.parameter("q"), TagSort.parse(uri.parameter("sort")),
                    descending(uri.parameter("order")), offset(uri.parameter("offset")),
                    uri.pageSize(MAX_TAGS_PAGE).orElse(DEFAULT_TAGS_PAGE));
        }
        if (path.equals("/admin/image")) {
            only(method, path, HttpMethod.GET, HttpMethod.HEAD);
            String repository = uri.parameter("repository").orElseThrow(() -> new InvalidRequestException(
                    RegistryErrorCode.NAME_INVALID, "repository is required: the name as /admin/tags lists it"));
            return new AdminRequest.Image(method, keepAlive, repository, Digest.parse(uri.parameter("digest")
                    .orElse(null)));
        }
        if (path.equals("/admin/export")) {
            only(method, path, HttpMethod.GET, HttpMethod.HEAD);
            return export(method, keepAlive, uri);
        }
        if (path.equals("/admin/upstreams")) {
            only(method, path, HttpMethod.GET, HttpMethod.HEAD);
            return new AdminRequest.Upstreams(method, keepAlive);
        }
        if (path.equals("/admin/cluster")) {
            only(method, path, HttpMethod.GET, HttpMethod.HEAD);
            return new AdminRequest.Cluster(method, keepAlive, uri.parameter("digest").map(Digest::parse));
        }
        if (path.equals("/admin/history")) {
            only(method, path, HttpMethod.GET, HttpMethod.HEAD);
            return new AdminRequest.History(method, keepAlive);
        }
        if (!path.equals("/admin/usage") && !path.equals("/admin/images")) {
            throw new InvalidRequestException(RegistryErrorCode.NOT_FOUND, "no such endpoint: " + path
                    + " (the admin API has /admin/usage, /admin/images, /admin/tags, /admin/image, /admin/export,"
                    + " /admin/upstreams, /admin/cluster, /admin/history, /admin/prefetch, /admin/jobs, /admin/cache, /admin/prune, /admin/verify"
                    + " and /admin/import)");
        }
        if (!HttpMethod.GET.equals(method) && !HttpMethod.HEAD.equals(method)) {
            throw new InvalidRequestException(RegistryErrorCode.UNSUPPORTED, method.name() + " " + path
                    + " is not supported");
        }
        if (path.equals("/admin/usage")) {
            return new AdminRequest.Usage(method, keepAlive);
        }
        return new AdminRequest.Images(method, keepAlive, uri.parameter("upstream"), uri.parameter("prefix"),
                uri.pageSize(MAX_PAGE).orElse(DEFAULT_PAGE), uri.parameter("last"));
    }

    /**
     * {@code image} (a tag, latest if none, or a digest), {@code ns} (the registry, as containerd's
     * {@code ?ns=}), {@code format} docker (default) or oci, {@code platform}.
     */
    private static AdminRequest.Export export(HttpMethod method, boolean keepAlive, RequestTarget uri) {
        ImageReference image = ImageReference.parse(uri.parameter("image").orElseThrow(() -> new InvalidRequestException(
                RegistryErrorCode.NAME_INVALID, "image is required: [registry/]name[:tag][@digest], as docker pull takes it")))
                .withDefaultTag();
        String format = uri.parameter("format").orElse("docker");
        if (!format.equals("docker") && !format.equals("oci")) {
            throw new InvalidRequestException(RegistryErrorCode.PARAMETER_INVALID, "format must be docker or oci");
        }
        String platform = uri.parameter("platform").orElse("linux/amd64");
        if (!platform.matches("[a-z0-9_.-]+/[a-z0-9_.-]+(/[a-z0-9_.-]+)?")) {
            throw new InvalidRequestException(RegistryErrorCode.PARAMETER_INVALID, "platform must be os/arch[/variant]");
        }
        return new AdminRequest.Export(method, keepAlive, image, uri.parameter("ns"),
                format.equals("oci") ? ImageArchiveWriter.Format.OCI : ImageArchiveWriter.Format.DOCKER, platform);
    }

    private static boolean descending(Optional<String> order) {
        if (order.isEmpty() || order.get().equals("asc")) {
            return false;
        }
        if (order.get().equals("desc")) {
            return true;
        }
        throw new InvalidRequestException(RegistryErrorCode.PARAMETER_INVALID, "order must be asc or desc");
    }

    private static int offset(Optional<String> offset) {
        try {
            int value = offset.map(Integer::parseInt).orElse(0);
            if (value < 0) {
                throw new NumberFormatException();
            }
            return value;
        } catch (NumberFormatException e) {
            throw new InvalidRequestException(RegistryErrorCode.PARAMETER_INVALID,
                    "offset must be a whole number, 0 or more");
        }
    }

    /** 405 UNSUPPORTED, with the methods the path takes in {@code Allow}, for any other method. */
    private static void only(HttpMethod method, String path, HttpMethod... allowed) {
        for (HttpMethod ok : allowed) {
            if (ok.equals(method)) {
                return;
            }
        }
        throw new InvalidRequestException(RegistryErrorCode.UNSUPPORTED, method.name() + " " + path
                + " is not supported", null, Map.of("Allow", String.join(", ",
                java.util.Arrays.stream(allowed).map(HttpMethod::name).toList())));
    }
}
