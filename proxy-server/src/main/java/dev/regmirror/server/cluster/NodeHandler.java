package dev.regmirror.server.cluster;

import dev.regmirror.core.cluster.NodeAddress;
import dev.regmirror.core.error.InvalidRequestException;
import dev.regmirror.core.error.RegistryErrorCode;
import dev.regmirror.core.cluster.PeerManifest;
import dev.regmirror.core.mirror.PullThroughBlobs;
import dev.regmirror.core.mirror.PullThroughManifests;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.reference.Reference;
import dev.regmirror.core.reference.RepositoryName;
import dev.regmirror.core.upstream.Route;
import dev.regmirror.server.http.BlobResponder;
import dev.regmirror.server.http.ErrorResponder;
import dev.regmirror.server.http.Responses;
import dev.regmirror.server.pipeline.TlsChannels;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;

/**
 * The node-to-node endpoint, ahead of the registry API on its listeners: {@code GET
 * /_regmirror/cluster/health} answers a peer's health check, and {@code GET
 * /_regmirror/cluster/<registry>/v2/<name>/blobs/<digest>} gives a peer a blob this node owns, from
 * the store or this node's one fill as it arrives, and {@code .../manifests/<tag or digest>} a
 * manifest, as this node resolves it for its own clients (the tag revalidated with the upstream
 * once its TTL is over), with no content negotiation: the asking node negotiates. Every request must carry the cluster's secret
 * (compared in constant time); without it the answer is 401 and nothing else happens. With
 * {@code regmirror.cluster.tls} on, a request that did not come over TLS is refused (403) before its
 * secret is even looked at: the nodes then speak TLS only, so only a misconfigured node or someone
 * who learnt the secret sends one in the clear.
 */
@Sharable
public final class NodeHandler extends ChannelInboundHandlerAdapter {

    /** The reserved path; {@code _} cannot start a repository name, so no image is shadowed. */
    public static final String PREFIX = "/_regmirror/cluster/";
    /** The user name nodes send their secret under (HTTP basic authentication). */
    static final String USER = "regmirror-node";
    private static final String BLOBS = "/blobs/";
    private static final String MANIFESTS = "/manifests/";
    /** When the owner last resolved the tag it answers, in epoch milliseconds; absent when stale. */
    static final String RESOLVED_AT = "Regmirror-Resolved-At";
    /** Why the owner answered from its cache without its upstream's confirmation (URL-encoded). */
    static final String STALE_BECAUSE = "Regmirror-Stale-Because";

    private final NodeAddress self;
    private final Predicate<HttpRequest> fromPeer;
    private final PullThroughBlobs blobs;
    private final PullThroughManifests manifests;
    private final BlobResponder responder;
    private final Set<String> registries;
    private final ErrorResponder errors;
    private final boolean tlsOnly;

    /**
     * @param registries the upstream registries this node mirrors: the only ones peers may ask for
     * @param tlsOnly    whether the nodes speak TLS to each other ({@code regmirror.cluster.tls.enabled})
     */
    public NodeHandler(NodeAddress self, byte[] secret, PullThroughBlobs blobs, PullThroughManifests manifests,
                       BlobResponder responder, Set<String> registries, ErrorResponder errors, boolean tlsOnly) {
        this.tlsOnly = tlsOnly;
        this.self = self;
        this.fromPeer = fromPeer(secret);
        this.blobs = blobs;
        this.manifests = manifests;
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

    /**
     * Whether a request is a peer's: to the node endpoint, with the cluster's secret (compared in
     * constant time). Such requests pass the per-client rate limit: a node asks for what many of its
     * own clients want, and a 429 from the owner would send it to the upstream itself.
     */
    public static Predicate<HttpRequest> fromPeer(byte[] secret) {
        byte[] expected = authorization(secret).getBytes(StandardCharsets.US_ASCII);
        return request -> pathOf(request.uri()).startsWith(PREFIX) && MessageDigest.isEqual(expected,
                request.headers().get(HttpHeaderNames.AUTHORIZATION, "").getBytes(StandardCharsets.US_ASCII));
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
        if (tlsOnly && !TlsChannels.overTls(ctx.channel())) {
            request.release();
            errors.send(ctx, method, keepAlive, new InvalidRequestException(RegistryErrorCode.DENIED,
                    "the node endpoint answers over TLS only (regmirror.cluster.tls.enabled): nodes reach each other"
                            + " at https://<peer>, on a TLS listener", null));
            return;
        }
        boolean peer = fromPeer.test(request);
        request.release();
        if (!peer) {
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
        Reference reference;
        try {
            int slash = rest.indexOf('/');
            int blobsAt = rest.lastIndexOf(BLOBS);
            int manifestsAt = rest.lastIndexOf(MANIFESTS);
            int resourceAt = Math.max(blobsAt, manifestsAt);
            if (slash <= 0 || !rest.startsWith("/v2/", slash) || resourceAt <= slash + 4) {
                throw new InvalidRequestException(RegistryErrorCode.NAME_UNKNOWN, "no node resource at " + path);
            }
            String registry = rest.substring(0, slash);
            if (!registries.contains(registry)) {
                throw new InvalidRequestException(RegistryErrorCode.NAME_UNKNOWN,
                        "this node mirrors no upstream " + registry);
            }
            route = new Route(registry, new RepositoryName(rest.substring(slash + 4, resourceAt)));
            reference = blobsAt > manifestsAt
                    ? Digest.parse(rest.substring(blobsAt + BLOBS.length()))
                    : Reference.parse(rest.substring(manifestsAt + MANIFESTS.length()));
        } catch (InvalidRequestException e) {
            errors.send(ctx, method, keepAlive, e);
            return;
        }
        if (rest.lastIndexOf(MANIFESTS) > rest.lastIndexOf(BLOBS)) {
            manifests.getAsOwner(route, reference).whenComplete((manifest, failure) -> ctx.executor().execute(() -> {
                if (failure != null) {
                    errors.send(ctx, method, keepAlive, failure);
                    return;
                }
                ctx.writeAndFlush(manifestResponse(manifest, keepAlive));
            }));
            return;
        }
        Digest digest = (Digest) reference;
        blobs.openAsOwner(route, digest).whenComplete((source, failure) -> ctx.executor().execute(() -> {
            if (failure != null) {
                errors.send(ctx, method, keepAlive, failure);
                return;
            }
            responder.send(ctx, route, digest, source, Optional.empty(), keepAlive);
        }));
    }

    /** The owner's manifest: its bytes, media type and digest, with when it was resolved or why it is stale. */
    private static FullHttpResponse manifestResponse(PeerManifest manifest, boolean keepAlive) {
        FullHttpResponse response = Responses.full(HttpResponseStatus.OK, manifest.manifest().mediaType(),
                Unpooled.wrappedBuffer(manifest.manifest().bytes()), false, keepAlive, null);
        response.headers().set(Responses.CONTENT_DIGEST_HEADER, manifest.manifest().digest().toString());
        manifest.resolvedAt().ifPresent(at -> response.headers().set(RESOLVED_AT, at.toEpochMilli()));
        manifest.staleBecause().ifPresent(why -> response.headers().set(STALE_BECAUSE,
                URLEncoder.encode(why, StandardCharsets.UTF_8)));
        return response;
    }

    private static String pathOf(String uri) {
        int query = uri.indexOf('?');
        return query < 0 ? uri : uri.substring(0, query);
    }
}
