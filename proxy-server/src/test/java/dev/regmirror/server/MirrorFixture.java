package dev.regmirror.server;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * A real regmirror server on a free loopback port, whose docker.io upstream is a local registry,
 * and a plain HTTP client to talk to it as a registry client would. While it runs, any blocking
 * call on a Netty event loop is recorded and fails {@link #close()}.
 */
public final class MirrorFixture implements AutoCloseable {

    private final ProxyServer server;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    private MirrorFixture(ProxyServer server) {
        this.server = server;
    }

    /** Starts regmirror with docker.io served from {@code upstream}, caching under {@code cacheDir}. */
    public static MirrorFixture start(URI upstream, Path cacheDir, Map<String, Object> overrides)
            throws IOException, InterruptedException {
        return start(upstream, cacheDir, overrides, Clock.systemUTC());
    }

    /** As {@link #start(URI, Path, Map)}, with the server reading time from {@code clock}. */
    public static MirrorFixture start(URI upstream, Path cacheDir, Map<String, Object> overrides, Clock clock)
            throws IOException, InterruptedException {
        EventLoopGuard.install();
        EventLoopGuard.drain();
        Map<String, Object> settings = new HashMap<>();
        settings.put("regmirror.server.host", "127.0.0.1");
        settings.put("regmirror.server.port", 0);
        settings.put("regmirror.admin.port", 0);
        settings.put("regmirror.server.disk-threads", 4);
        settings.put("regmirror.server.event-loop-threads", 2);
        settings.put("regmirror.cache.directory", cacheDir.toString());
        settings.put("regmirror.upstreams.dockerhub.url", upstream.toString());
        settings.put("regmirror.upstreams.dockerhub.token-realm", "");
        settings.put("regmirror.upstream-defaults.connect-timeout", "2s");
        settings.put("regmirror.upstream-defaults.read-timeout", "5s");
        settings.put("regmirror.server.access-log.output", "off");
        settings.putAll(overrides);
        Config config = ConfigFactory.parseMap(settings).withFallback(ConfigFactory.defaultReferenceUnresolved()).resolve();
        return new MirrorFixture(ProxyMain.start(config, clock));
    }

    public int port() {
        return server.port();
    }

    /** {@code 127.0.0.1:port}, as skopeo and other clients name the mirror. */
    public String hostPort() {
        return "127.0.0.1:" + server.port();
    }

    /** The port of a listener by its name: {@code registry}, {@code admin}, or its key under server.listeners. */
    public int port(String listener) {
        return server.port(listener);
    }

    /** The admin API's port (a free one, unless the overrides say otherwise). */
    public int adminPort() {
        return server.adminPort();
    }

    public URI adminUri(String path) {
        return URI.create("http://127.0.0.1:" + server.adminPort() + path);
    }

    public URI uri(String path) {
        return URI.create("http://127.0.0.1:" + server.port() + path);
    }

    /** A request builder for a path of this mirror. */
    public HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(30));
    }

    public HttpResponse<byte[]> get(String path, String... headers) throws IOException, InterruptedException {
        HttpRequest.Builder builder = request(path).GET();
        if (headers.length > 0) {
            builder.headers(headers);
        }
        return http.send(builder.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    public HttpResponse<Void> head(String path, String... headers) throws IOException, InterruptedException {
        HttpRequest.Builder builder = request(path).method("HEAD", HttpRequest.BodyPublishers.noBody());
        if (headers.length > 0) {
            builder.headers(headers);
        }
        return http.send(builder.build(), HttpResponse.BodyHandlers.discarding());
    }

    /** The server's meters, read directly: for a moment when its listeners cannot answer {@code /metrics}. */
    public io.micrometer.core.instrument.MeterRegistry meters() {
        return server.metrics();
    }

    public HttpClient http() {
        return http;
    }

    /**
     * Waits (at most 30 s) until no blob fill is running, as {@code /metrics} reports it. A
     * response ends once its blob is verified; the fill commits it (sync, rename, eviction) just
     * after, so a test that looks at the cache right after a miss waits for this first.
     */
    public void awaitFillsCommitted() throws IOException, InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!new String(get("/metrics").body(), java.nio.charset.StandardCharsets.UTF_8)
                .contains("regmirror_fills_inflight 0.0")) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("blob fills still running after 30 s");
            }
            Thread.onSpinWait();
        }
    }

    /** Stops the server; fails if any event loop made a blocking call while it ran. */
    @Override
    public void close() {
        server.close();
        java.util.List<String> blocking = EventLoopGuard.drain();
        if (!blocking.isEmpty()) {
            throw new AssertionError("blocking calls on an event loop:\n" + String.join("\n", blocking));
        }
    }
}
