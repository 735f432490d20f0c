package dev.regmirror.core.client;

import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;

import com.github.tomakehurst.wiremock.WireMockServer;
import dev.regmirror.core.client.auth.TokenCache;
import dev.regmirror.core.error.ProxyException;
import dev.regmirror.core.upstream.Credentials;
import dev.regmirror.core.upstream.EndpointSettings;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.net.URI;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An upstream registry played by WireMock on a free port, a second server standing for another
 * host (a CDN, a token service) at 127.0.0.1, and clients for them on a hand-moved ticker.
 */
final class UpstreamFixture implements AutoCloseable {

    /** Generous, so that a loaded build machine does not fail tests that are not about timeouts. */
    static final Duration READ_TIMEOUT = Duration.ofSeconds(5);
    /** For the tests that are about timeouts. */
    static final Duration SHORT_READ_TIMEOUT = Duration.ofMillis(700);
    static final Credentials CREDENTIALS = new Credentials("mirror-user", "s3cret-Pa55word");
    /**
     * The event loop blob bodies are read on, shared by every test's clients (daemon, never shut
     * down). A plain thread, not Netty's own kind, so that it keeps no cache of pooled buffers and
     * the pool's counts say exactly what is still held.
     */
    static final ClientLoops BLOB_LOOPS = new ClientLoops(new NioEventLoopGroup(1, runnable -> {
        Thread thread = new Thread(runnable, "test-upstream-io");
        thread.setDaemon(true);
        return thread;
    }), NioSocketChannel::new);

    final WireMockServer upstream = new WireMockServer(options().dynamicPort());
    final WireMockServer otherHost = new WireMockServer(options().dynamicPort());
    final AtomicLong nanos = new AtomicLong();
    final TokenCache tokens = new TokenCache(nanos::get);
    private final ExecutorService executor = Executors.newCachedThreadPool();
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();

    UpstreamFixture() {
        upstream.start();
        otherHost.start();
    }

    /** The upstream's base URL, {@code http://localhost:port}. */
    URI url() {
        return URI.create("http://localhost:" + upstream.port());
    }

    /** The other host's base URL: {@code http://127.0.0.1:port}, a different host than the upstream's. */
    URI otherUrl() {
        return URI.create("http://127.0.0.1:" + otherHost.port());
    }

    EndpointSettings anonymous() {
        return settings(url(), Optional.empty(), Optional.empty());
    }

    EndpointSettings settings(URI url, Optional<Credentials> credentials, Optional<URI> tokenRealm) {
        return new EndpointSettings("docker.io", url, credentials, tokenRealm, Duration.ofSeconds(5), READ_TIMEOUT,
                Optional.empty(), Optional.empty());
    }

    /** Anonymous settings for {@code url} with the short read timeout. */
    EndpointSettings impatient(URI url) {
        return new EndpointSettings("docker.io", url, Optional.empty(), Optional.empty(), Duration.ofSeconds(5),
                SHORT_READ_TIMEOUT, Optional.empty(), Optional.empty());
    }

    HttpRegistryClient client(EndpointSettings settings) {
        return new HttpRegistryClient(settings, BLOB_LOOPS, executor, tokens, scheduler);
    }

    /** A client made by the production factory, its token cache on {@code clock}. */
    HttpRegistryClient created(EndpointSettings settings, java.time.Clock clock) {
        return HttpRegistryClient.create(settings, executor, BLOB_LOOPS, scheduler, clock);
    }

    HttpRegistryClient client() {
        return client(anonymous());
    }

    /** A port nobody listens on: bound, noted and closed again. */
    static int closedPort() throws java.io.IOException {
        try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    void advance(Duration duration) {
        nanos.addAndGet(duration.toNanos());
    }

    /** The value of a future that should succeed. */
    static <T> T await(CompletableFuture<T> future) throws Exception {
        return future.get(10, TimeUnit.SECONDS);
    }

    /**
     * The exception a future failed with, which must be a ProxyException itself (not wrapped in a
     * CompletionException) of the given type.
     */
    static <E extends ProxyException> E failure(CompletableFuture<?> future, Class<E> type) throws Exception {
        try {
            Object value = future.get(10, TimeUnit.SECONDS);
            throw new AssertionError("expected " + type.getSimpleName() + " but got " + value);
        } catch (TimeoutException e) {
            throw new AssertionError("the future did not complete", e);
        } catch (ExecutionException e) {
            Throwable direct = future.handle((value, failure) -> failure).join();
            if (!type.isInstance(direct)) {
                throw new AssertionError("expected the future to fail with " + type.getSimpleName(), direct);
            }
            return type.cast(direct);
        }
    }

    @Override
    public void close() {
        upstream.stop();
        otherHost.stop();
        executor.shutdownNow();
        scheduler.shutdownNow();
    }
}
