package dev.regmirror.server.cluster;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.regmirror.core.client.BlobBody;
import dev.regmirror.core.client.ClientLoops;
import dev.regmirror.core.client.HttpRegistryClient;
import dev.regmirror.core.client.RegistryClient;
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
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;

/**
 * Asks other nodes of the cluster, over their node endpoint with the cluster's secret: a health
 * check (a small GET with its own timeout), and a blob, read as a registry client reads an upstream's
 * (the same streaming Netty client, with back-pressure and a read timeout), from a base URL under the
 * owner's {@link NodeHandler#PREFIX}, and a manifest (small: read whole, by the JDK client). Only the
 * secret is sent: never a client's or an upstream's credentials.
 */
public final class NodeClient implements PeerWatch.Prober, ClusterBlobs.PeerBlobs, ClusterManifests.PeerManifests {

    private final ClusterSettings settings;
    private final HttpClient http;
    private final ClientLoops loops;
    private final Executor executor;
    private final ScheduledExecutorService scheduler;
    private final Duration readTimeout;
    private final String authorization;
    /** Tokens are never issued between nodes; the cache is only what the client's constructor takes. */
    private final TokenCache noTokens = new TokenCache(Ticker.systemTicker());
    private final ConcurrentMap<Key, RegistryClient> clients = new ConcurrentHashMap<>();

    private record Key(NodeAddress node, String registry) {
    }

    /**
     * @param loops       the event loops blob bodies are read on, owned by the caller
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
        this.authorization = NodeHandler.authorization(settings.secretBytes());
        this.http = HttpClient.newBuilder().executor(executor).followRedirects(HttpClient.Redirect.NEVER)
                .version(HttpClient.Version.HTTP_1_1).connectTimeout(settings.healthTimeout()).build();
    }

    /** True when the peer answers its health check with 200 in time. */
    @Override
    public CompletableFuture<Boolean> check(NodeAddress peer) {
        HttpRequest request = HttpRequest.newBuilder(URI.create(peer.url() + NodeHandler.PREFIX + "health"))
                .timeout(settings.healthTimeout()).header("Authorization", authorization)
                .header("User-Agent", HttpRegistryClient.USER_AGENT).GET().build();
        return http.sendAsync(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8))
                .thenApply(response -> response.statusCode() == 200);
    }

    @Override
    public CompletableFuture<BlobBody> getBlob(NodeAddress owner, Route route, Digest digest) {
        return clients.computeIfAbsent(new Key(owner, route.registry()), this::client).getBlob(route.name(), digest);
    }

    /**
     * The owner's manifest for the tag or digest, its bytes checked against the digest it names (and
     * against the digest asked for); a 404 is the upstream's "not found", anything else but 200 a
     * failure of the owner (the caller then asks its own upstream).
     */
    @Override
    public CompletableFuture<PeerManifest> getManifest(NodeAddress owner, Route route, Reference reference) {
        String what = "manifest " + reference + " of " + route + " from its owner " + owner;
        HttpRequest request = HttpRequest.newBuilder(URI.create(owner.url() + NodeHandler.PREFIX + route.registry()
                        + "/v2/" + route.name() + "/manifests/" + reference))
                .timeout(readTimeout).header("Authorization", authorization)
                .header("User-Agent", HttpRegistryClient.USER_AGENT).GET().build();
        return http.sendAsync(request, HttpResponse.BodyHandlers.ofByteArray()).thenApply(response -> {
            if (response.statusCode() == 404) {
                throw new UpstreamErrorException(RegistryErrorCode.MANIFEST_UNKNOWN,
                        what + ": " + route.registry() + " does not have it", null, route.registry(), 404, Map.of());
            }
            if (response.statusCode() != 200) {
                throw new UpstreamUnavailableException(route.registry(), what + ": the owner answered "
                        + response.statusCode(), null);
            }
            byte[] bytes = response.body();
            Digest digest = Digest.sha256Of(bytes);
            String named = response.headers().firstValue("Docker-Content-Digest").orElse("");
            if (!digest.toString().equals(named) || (reference instanceof Digest asked && !asked.equals(digest))) {
                throw new UpstreamUnavailableException(route.registry(), what + ": its bytes are " + digest + ", not "
                        + named, null);
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
     * A registry client of the owner's node endpoint for one registry: it answers 401 with a basic
     * challenge first, and the client then sends the secret up front, over kept-alive Netty
     * connections like any upstream's.
     */
    private RegistryClient client(Key key) {
        EndpointSettings endpoint = new EndpointSettings(key.registry(),
                URI.create(key.node().url() + NodeHandler.PREFIX + key.registry()),
                Optional.of(new Credentials(NodeHandler.USER, settings.secret())), Optional.empty(),
                settings.healthTimeout(), readTimeout, Optional.empty(), Optional.empty());
        return new HttpRegistryClient(endpoint, loops, executor, noTokens, scheduler);
    }
}
