package dev.regmirror.core.client;

import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.stubbing.ServeEvent;
import dev.regmirror.core.reference.RepositoryName;
import dev.regmirror.core.reference.Tag;
import dev.regmirror.core.upstream.Endpoint;
import dev.regmirror.core.upstream.EndpointSettings;
import dev.regmirror.core.upstream.NameRewrite;
import dev.regmirror.core.upstream.UpstreamSettings;
import java.net.URI;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Three upstream endpoints played by WireMock (the registry, a mirror on another host, a sync
 * station), and failover clients over any of them on a hand-moved nanosecond clock.
 */
final class FailoverFixture implements AutoCloseable {

    static final Duration SKIP = Duration.ofSeconds(30);
    static final RepositoryName NGINX = new RepositoryName("library/nginx");
    static final Tag LATEST = new Tag("latest");
    static final String MANIFEST_PATH = "/v2/library/nginx/manifests/latest";
    static final NameRewrite STATION_LAYOUT = new NameRewrite("ddn-k8s/docker.io/{repository}");
    static final String STATION_MANIFEST_PATH = "/v2/ddn-k8s/docker.io/library/nginx/manifests/latest";

    private final UpstreamFixture hosts = new UpstreamFixture();
    /** The registry itself, at {@code http://localhost:port}. */
    final WireMockServer registry = hosts.upstream;
    /** A full mirror of it, at {@code http://127.0.0.1:port}. */
    final WireMockServer mirror = hosts.otherHost;
    /** A sync station keeping some images under {@code ddn-k8s/docker.io/}. */
    final WireMockServer station = new WireMockServer(options().dynamicPort());
    final AtomicLong nanos = new AtomicLong(1_000_000_000L);
    private final ExecutorService executor = Executors.newCachedThreadPool();
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();

    FailoverFixture() {
        station.start();
    }

    EndpointSettings settings(URI url) {
        return hosts.settings(url, Optional.empty(), Optional.empty());
    }

    Endpoint registryEndpoint() {
        return Endpoint.of(settings(hosts.url()));
    }

    Endpoint mirrorEndpoint() {
        return Endpoint.of(settings(hosts.otherUrl()));
    }

    Endpoint stationEndpoint() {
        return new Endpoint(settings(URI.create("http://localhost:" + station.port())), STATION_LAYOUT, true);
    }

    /** An endpoint where nothing listens. */
    static Endpoint refusing(EndpointSettings like) throws java.io.IOException {
        URI closed = URI.create("http://127.0.0.1:" + UpstreamFixture.closedPort());
        return Endpoint.of(new EndpointSettings(like.registry(), closed, like.credentials(), like.tokenRealm(),
                like.connectTimeout(), like.readTimeout(), like.caFile(), like.proxy()));
    }

    static UpstreamSettings upstream(Endpoint... endpoints) {
        return new UpstreamSettings("docker.io", List.of(), List.of(), "library", Arrays.asList(endpoints), SKIP);
    }

    /** A failover client over the endpoints, in order, with WireMock-backed clients on {@link #nanos}. */
    FailoverRegistryClient client(Endpoint... endpoints) {
        List<RegistryClient> clients = Arrays.stream(endpoints)
                .map(endpoint -> (RegistryClient) hosts.client(endpoint.settings())).toList();
        return new FailoverRegistryClient(upstream(endpoints), clients, nanos::get);
    }

    /** A client made by the production factory, its skip windows on {@code clock}. */
    FailoverRegistryClient created(UpstreamSettings upstream, java.time.Clock clock) {
        return FailoverRegistryClient.create(upstream, executor, UpstreamFixture.BLOB_LOOPS, scheduler, clock);
    }

    void advance(Duration duration) {
        nanos.addAndGet(duration.toNanos());
    }

    /** The {@code host:port} of every request any of the three servers received. */
    Set<String> hostsContacted() {
        return Stream.of(registry, mirror, station).flatMap(server -> server.getAllServeEvents().stream())
                .map(ServeEvent::getRequest).map(request -> request.getHeader("Host")).collect(Collectors.toSet());
    }

    @Override
    public void close() {
        station.stop();
        executor.shutdownNow();
        scheduler.shutdownNow();
        hosts.close();
    }
}
