package dev.regmirror.server.cluster;

import dev.regmirror.core.cluster.NodeAddress;
import dev.regmirror.core.error.InvalidRequestException;
import dev.regmirror.core.error.RegistryErrorCode;
import dev.regmirror.core.mirror.PullThroughBlobs;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.reference.RepositoryName;
import dev.regmirror.core.upstream.Route;
import dev.regmirror.server.http.BlobResponder;
import dev.regmirror.server.http.ErrorResponder;
import dev.regmirror.server.http.Responses;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The node-to-node endpoint, ahead of the registry API on its listeners: {@code GET
 * /_regmirror/cluster/health} answers a peer's health check, and {@code GET
 * /_regmirror/cluster/<registry>/v2/<name>/blobs/<digest>} gives a peer a blob this node owns, from
 * the store or this node's one fill as it arrives. Every request must carry the cluster's secret
 * (compared in constant time); without it the answer is 401 and nothing else happens.
 */
@Sharable
public final class NodeHandler extends ChannelInboundHandlerAdapter {

    /** The reserved path; {@code _} cannot start a repository name, so no image is shadowed. */
    public static final String PREFIX = "/_regmirror/cluster/";
    /** The user name nodes send their secret under (HTTP basic authentication). */
    static final String USER = "regmirror-node";
    private static final String BLOBS = "/blobs/";

    private final NodeAddress self;
    private final byte[] expected;
    private final PullThroughBlobs blobs;
    private final BlobResponder responder;
    private final Set<String> registries;
    private final ErrorResponder errors;

    /** @param registries the upstream registries this node mirrors: the only ones peers may ask for */
    public NodeHandler(NodeAddress self, byte[] secret, PullThroughBlobs blobs, BlobResponder responder,
                       Set<String> registries, ErrorResponder errors) {
        this.self = self;
        this.expected = authorization(secret).getBytes(StandardCharsets.US_ASCII);
        this.blobs = blobs;
        this.responder = responder;
        this.registries = Set.copyOf(registries);
        this.errors = errors;
    }

    /** The Authorization header that carries the secret. */
    static String authorization(byte[] secret) {
        byte[] user = (USER + ":").getBytes(StandardCharsets.UTF_8);
        byte[] pair = new byte[user.length + secret.length];
        System.arraycopy(user, 0, pair, 0, user.length);
        System.arraycopy(secret, 0, pair, user.length, secret.length);
        return "Basic " + Base64.getEncoder().encodeToString(pair);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof FullHttpRequest request) || !pathOf(request.uri()).startsWith(PREFIX)) {
            ctx.fireChannelRead(msg);
            return;
        }
        String path = pathOf(request.uri());
        HttpMethod method = request.method();
        boolean keepAlive = HttpUtil.isKeepAlive(request);
        String presented = request.headers().get(HttpHeaderNames.AUTHORIZATION, "");
        request.release();
        if (!MessageDigest.isEqual(expected, presented.getBytes(StandardCharsets.US_ASCII))) {
            errors.send(ctx, method, keepAlive, new InvalidRequestException(RegistryErrorCode.UNAUTHORIZED,
                    "the node endpoint answers the nodes of the cluster only", null,
                    Map.of(HttpHeaderNames.WWW_AUTHENTICATE.toString(), "Basic realm=\"regmirror cluster\"")));
            return;
        }
        if (!HttpMethod.GET.equals(method)) {
            errors.send(ctx, method, keepAlive, new InvalidRequestException(RegistryErrorCode.UNSUPPORTED,
                    method + " " + path + ": the node endpoint answers GET only", null, Map.of("Allow", "GET")));
            return;
        }
        String rest = path.substring(PREFIX.length());
        if (rest.equals("health")) {
            Responses.sendFull(ctx, HttpResponseStatus.OK, "application/json; charset=utf-8",
                    Unpooled.copiedBuffer("{\"node\":\"" + self + "\"}", StandardCharsets.UTF_8), false, keepAlive, null);
            return;
        }
        Route route;
        Digest digest;
        try {
            int slash = rest.indexOf('/');
            int blobsAt = rest.lastIndexOf(BLOBS);
            if (slash <= 0 || !rest.startsWith("/v2/", slash) || blobsAt <= slash + 4) {
                throw new InvalidRequestException(RegistryErrorCode.NAME_UNKNOWN, "no node resource at " + path);
            }
            String registry = rest.substring(0, slash);
            if (!registries.contains(registry)) {
                throw new InvalidRequestException(RegistryErrorCode.NAME_UNKNOWN,
                        "this node mirrors no upstream " + registry);
            }
            route = new Route(registry, new RepositoryName(rest.substring(slash + 4, blobsAt)));
            digest = Digest.parse(rest.substring(blobsAt + BLOBS.length()));
        } catch (InvalidRequestException e) {
            errors.send(ctx, method, keepAlive, e);
            return;
        }
        blobs.openAsOwner(route, digest).whenComplete((source, failure) -> ctx.executor().execute(() -> {
            if (failure != null) {
                errors.send(ctx, method, keepAlive, failure);
                return;
            }
            responder.send(ctx, route, digest, source, Optional.empty(), keepAlive);
        }));
    }

    private static String pathOf(String uri) {
        int query = uri.indexOf('?');
        return query < 0 ? uri : uri.substring(0, query);
    }
}
