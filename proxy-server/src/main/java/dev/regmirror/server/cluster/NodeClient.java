package dev.regmirror.server.cluster;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.regmirror.core.client.BlobBody;
import dev.regmirror.core.client.ClientLoops;
import dev.regmirror.core.client.HttpRegistryClient;
import dev.regmirror.core.client.RegistryClient;
import dev.regmirror.core.client.WholeBodyClient;
import dev.regmirror.core.client.auth.TokenCache;
import dev.regmirror.core.cluster.ClusterBlobs;
import dev.regmirror.core.cluster.ClusterManifests;
import dev.regmirror.core.cluster.ClusterSettings;
import dev.regmirror.core.cluster.NodeAddress;
import dev.regmirror.core.cluster.PeerManifest;
import dev.regmirror.core.cluster.PeerWatch;
import dev.regmirror.core.error.RegistryErrorCode;
import dev.regmirror.core.error.UpstreamErrorException;
import dev.regmirror.core.error.UpstreamUnavailableException;
import dev.regmirror.core.manifest.ManifestBytes;
import dev.regmirror.core.manifest.MediaTypes;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.reference.Reference;
import dev.regmirror.core.upstream.Credentials;
import dev.regmirror.core.upstream.EndpointSettings;
import dev.regmirror.core.upstream.Route;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;

/**
 * Asks other nodes of the cluster, over their node endpoint with the cluster's secret, on the
 * project's one Netty client: a health check (a small GET with its own timeouts), a blob, read as a
 * registry client reads an upstream's (with back-pressure and a read timeout), from a base URL under
 * the owner's {@link NodeHandler#PREFIX}, and a manifest (small: read whole). With {@code cluster.tls}
 * every request goes over HTTPS, the peer's certificate checked against its host or the peers-dns
 * name before anything is sent. Only the secret is sent: never a client's or an upstream's
 * credentials.
 */
public final class NodeClient implements PeerWatch.Prober, ClusterBlobs.PeerBlobs, ClusterManifests.PeerManifests {

    /** The most of a health answer read: it is a line of JSON. */
    private static final int MAX_HEALTH = 64 * 1024;

    private final ClusterSettings settings;
    private final ClientLoops loops;
    private final Executor executor;
    private final ScheduledExecutorService scheduler;
    private final Duration readTimeout;
    /** Tokens are never issued between nodes; the cache is only what the client's constructor takes. */
    private final TokenCache noTokens = new TokenCache(Ticker.systemTicker());
    private final ConcurrentMap<NodeAddress, WholeBodyClient> health = new ConcurrentHashMap<>();
    private final ConcurrentMap<Key, Owner> owners = new ConcurrentHashMap<>();

    private record Key(NodeAddress node, String registry) {
    }

    /** What this node asks one owner for one registry: its blobs, streamed, and its manifests, read whole. */
    private record Owner(RegistryClient blobs, WholeBodyClient manifests) {
    }

    /**
     * @param loops       the event loops answers are read on, owned by the caller
     * @param executor    where answers are handed on (never an event loop)
     * @param readTimeout the longest wait for an owner's answer or its next bytes: above the
     *                    upstreams' own, since the owner waits for its upstream first
     */
    public NodeClient(ClusterSettings settings, ClientLoops loops, Executor executor, ScheduledExecutorService scheduler,
                      Duration readTimeout) {
        this.settings = settings;
        this.loops = loops;
        this.executor = executor;
        this.scheduler = scheduler;
        this.readTimeout = readTimeout;
    }

    /**
     * Drops the clients of nodes no longer named (a pod's old address, once DNS lists its new one);
     * their idle connections close on their own timers.
     */
    @Override
    public void peersAre(Collection<NodeAddress> peers) {
        health.keySet().retainAll(peers);
        owners.keySet().removeIf(key -> !peers.contains(key.node()));
    }

    /**
     * True when the peer answers its health check with 200, each step (connect, TLS, answer) within
     * health-timeout; fails saying what went wrong otherwise, another status included.
     */
    @Override
    public CompletableFuture<Boolean> check(NodeAddress peer) {
        WholeBodyClient client = health.computeIfAbsent(peer, node -> new WholeBodyClient(
                endpoint("node " + node, node, "", settings.healthTimeout()), loops, executor, scheduler));
        return client.get("/health", "get a health check answer", MAX_HEALTH).thenApply(response -> {
            if (response.status() != 200) {
                throw new UpstreamUnavailableException("node " + peer, "get a health check answer from node " + peer
                        + ": it answered " + response.status()
                        + (response.status() == 401 ? " (its regmirror.cluster.secret is not this node's)" : ""), null);
            }
            return true;
        });
    }

    @Override
    public CompletableFuture<BlobBody> getBlob(NodeAddress owner, Route route, Digest digest) {
        return owner(owner, route.registry()).thenCompose(client -> client.blobs().getBlob(route.name(), digest));
    }

    /**
     * The owner's manifest for the tag or digest, its bytes checked against the digest it names (and
     * against the digest asked for); a 404 is the upstream's "not found", anything else but 200 a
     * failure of the owner (the caller then asks its own upstream).
     */
    @Override
    public CompletableFuture<PeerManifest> getManifest(NodeAddress owner, Route route, Reference reference) {
        String what = "manifest " + reference + " of " + route + " from its owner " + owner;
        return owner(owner, route.registry()).thenCompose(client -> client.manifests().get("/v2/" + route.name()
                + "/manifests/" + reference, "ask its owner " + owner + " for manifest " + reference + " of " + route,
                HttpRegistryClient.MAX_MANIFEST)).thenApply(response -> {
                    if (response.status() == 404) {
                        throw new UpstreamErrorException(RegistryErrorCode.MANIFEST_UNKNOWN,
                                what + ": " + route.registry() + " does not have it", null, route.registry(), 404,
                                Map.of());
                    }
                    if (response.status() != 200) {
                        throw new UpstreamUnavailableException(route.registry(), what + ": the owner answered "
                                + response.status(), null);
                    }
                    byte[] bytes = response.body();
                    Digest digest = Digest.sha256Of(bytes);
                    String named = response.headers().firstValue("Docker-Content-Digest").orElse("");
                    if (!digest.toString().equals(named)
                            || (reference instanceof Digest asked && !asked.equals(digest))) {
                        throw new UpstreamUnavailableException(route.registry(), what + ": its bytes are " + digest
                                + ", not " + named, null);
                    }
                    String mediaType = MediaTypes.essence(response.headers().firstValue("Content-Type").orElse(""));
                    return new PeerManifest(new ManifestBytes(mediaType, digest, bytes),
                            response.headers().firstValue(NodeHandler.STALE_BECAUSE)
                                    .map(why -> URLDecoder.decode(why, StandardCharsets.UTF_8)),
                            response.headers().firstValue(NodeHandler.RESOLVED_AT)
                                    .map(millis -> Instant.ofEpochMilli(Long.parseLong(millis))));
                });
    }

    /**
     * The clients of the owner's node endpoint for one registry. The blobs' answers 401 with a basic
     * challenge first, and it then sends the secret up front, over kept-alive connections like any
     * upstream's; the manifests' sends it on every request.
     */
    private CompletableFuture<Owner> owner(NodeAddress node, String registry) {
        Owner known = owners.get(new Key(node, registry));
        if (known != null) {
            return CompletableFuture.completedFuture(known);
        }
        // Made on the executor: a client's TLS context draws from the system's random source, and
        // the first request to an owner may come from an event loop.
        return CompletableFuture.supplyAsync(() -> owners.computeIfAbsent(new Key(node, registry), key -> {
            EndpointSettings endpoint = endpoint(registry, node, registry, readTimeout);
            return new Owner(new HttpRegistryClient(endpoint, loops, executor, noTokens, scheduler),
                    new WholeBodyClient(endpoint, loops, executor, scheduler));
        }), executor);
    }

    /**
     * The endpoint {@code path} under {@code node}'s node endpoint, with the secret, the cluster's CA
     * file and the name the node's certificate is checked against; a connection within health-timeout.
     *
     * @param name what the endpoint is called in messages (a registry, or the node)
     */
    private EndpointSettings endpoint(String name, NodeAddress node, String path, Duration read) {
        return new EndpointSettings(name, URI.create(settings.url(node) + NodeHandler.PREFIX + path),
                Optional.of(new Credentials(NodeHandler.USER, settings.secret())), Optional.empty(),
                settings.healthTimeout(), read, settings.tls().caFile(), Optional.empty(),
                settings.peerCertificateName());
    }
}
