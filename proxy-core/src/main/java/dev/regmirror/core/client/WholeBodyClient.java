package dev.regmirror.core.client;

import dev.regmirror.core.upstream.EndpointSettings;
import java.net.URI;
import java.net.http.HttpHeaders;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;

/**
 * Sends GETs to one endpoint over a {@link NettyWire} of its own, with the endpoint's basic
 * credentials on every request, and reads each answer whole: what a cluster node asks another
 * (its health, a manifest), where a registry client's token flow and redirects have no place. The
 * answer's status is the caller's to judge; failures to get one are a ProxyException saying what
 * was attempted.
 */
public final class WholeBodyClient {

    /** A status, its headers and the whole body. */
    public record Response(int status, HttpHeaders headers, byte[] body) {
    }

    private final EndpointSettings settings;
    private final NettyWire wire;
    private final Failures failures;
    private final Optional<String> authorization;

    /**
     * @param loops     the event loops answers are read on, owned by the caller
     * @param executor  where host names are looked up and answers handed on
     * @param scheduler runs the read timeouts of bodies
     * @throws IllegalArgumentException if the endpoint's CA file cannot be read or holds no certificate
     */
    public WholeBodyClient(EndpointSettings settings, ClientLoops loops, Executor executor,
                           ScheduledExecutorService scheduler) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.failures = new Failures(settings);
        this.wire = new NettyWire(settings, loops, executor, scheduler, failures);
        this.authorization = settings.credentials().map(TokenFetcher::basic);
    }

    /**
     * GETs {@code path} under the endpoint's URL and reads the body whole, within the read timeout;
     * a body past {@code limit} bytes fails (and its connection is closed).
     *
     * @param what what the request is for, in messages, which go on with " from " and the endpoint:
     *             {@code "get a health check answer"}
     */
    public CompletableFuture<Response> get(String path, String what, int limit) {
        URI uri = URI.create(settings.url() + path);
        return failures.mapping(what, () -> wire.send("GET", Optional.empty(), what, uri, authorization)
                .thenCompose(response -> wire.collect(response.body(), limit)
                        .thenApply(body -> new Response(response.status(), response.headers(), body))));
    }
}
