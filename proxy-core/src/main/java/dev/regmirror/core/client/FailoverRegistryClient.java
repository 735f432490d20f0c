package dev.regmirror.core.client;

import dev.regmirror.core.manifest.ManifestBytes;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.reference.Reference;
import dev.regmirror.core.reference.RepositoryName;
import dev.regmirror.core.upstream.Endpoint;
import dev.regmirror.core.upstream.UpstreamSettings;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiFunction;
import java.util.function.LongSupplier;

/**
 * The {@link RegistryClient} of one upstream with several endpoints (the registry and its mirrors or
 * sync stations), asking them in the configured order, each under its own names.
 *
 * <p>The rules, per request:
 * <ul>
 *   <li>Endpoints in their skip window are left out. If all of them are in it, the first endpoint is
 *       asked anyway (alone), so an upstream is never unreachable only because of the window.</li>
 *   <li>The next endpoint is asked after a connection failure or timeout, a 5xx or a 429 (these also
 *       put the endpoint in its skip window for {@link UpstreamSettings#failureSkip()}); after a 404
 *       from a partial endpoint (a sync station lacking the image); and after a 2xx or 3xx answer that
 *       could not be used (a manifest with the wrong digest, a redirect loop).</li>
 *   <li>A 404 from an endpoint that is not partial, 401, 403 and every other 4xx are the answer.</li>
 *   <li>Any answer from an endpoint that does not start its skip window ends the window.</li>
 *   <li>A blob fails over only until its endpoint answered 200; a body breaking later is the caller's.</li>
 *   <li>When every endpoint asked failed, the request fails with the last failure that was not a
 *       partial endpoint's 404, or with the last such 404 if there is nothing else; but as
 *       UNAVAILABLE if an endpoint was skipped, which might have had it. With one endpoint that
 *       failure is passed on unchanged; with more, as the same kind of exception (code, status,
 *       headers such as Retry-After) whose message names the upstream and how many endpoints failed:
 *       "pull manifest latest of library/nginx from docker.io: all 2 endpoints failed; last: ...".</li>
 * </ul>
 */
public final class FailoverRegistryClient implements RegistryClient {

    private final String registry;
    private final List<FailoverEndpoint> endpoints = new ArrayList<>();
    private final LongSupplier nanoTime;
    /** The last {@code ratelimit-remaining} a manifest HEAD reported, and when; null before one did. */
    private final AtomicReference<PullQuota> pullQuota = new AtomicReference<>();
    private final Clock clock;

    /** How many pulls the upstream said were left ({@code ratelimit-remaining}, Docker Hub's header), and when. */
    public record PullQuota(long remaining, Instant at) {
    }

    /**
     * @param clients  one client per endpoint of {@code upstream}, in the same order
     * @param nanoTime the time in nanoseconds that skip windows are measured on
     */
    public FailoverRegistryClient(UpstreamSettings upstream, List<? extends RegistryClient> clients,
                                  LongSupplier nanoTime) {
        this(upstream, clients, nanoTime, Clock.systemUTC());
    }

    /** @param clock the wall-clock time that {@link #endpoints()} and {@link #pullQuota()} are reported in */
    public FailoverRegistryClient(UpstreamSettings upstream, List<? extends RegistryClient> clients,
                                  LongSupplier nanoTime, Clock clock) {
        this.clock = Objects.requireNonNull(clock, "clock");
        this.registry = upstream.registry();
        this.nanoTime = Objects.requireNonNull(nanoTime, "nanoTime");
        if (clients.size() != upstream.endpoints().size()) {
            throw new IllegalArgumentException(upstream.endpoints().size() + " endpoints of " + registry + " but "
                    + clients.size() + " clients");
        }
        for (int i = 0; i < clients.size(); i++) {
            endpoints.add(new FailoverEndpoint(upstream.endpoints().get(i), Objects.requireNonNull(clients.get(i)),
                    registry, upstream.failureSkip()));
        }
    }

    /**
     * The client of {@code upstream}: an {@link HttpRegistryClient} per endpoint, each with its own
     * connections (for the endpoint's CA file and proxy) and its own token cache (a token one endpoint
     * issued is never sent to another), read on {@code blobLoops}, tokens and skip windows on
     * {@code clock}.
     */
    public static FailoverRegistryClient create(UpstreamSettings upstream, Executor executor,
                                                ClientLoops blobLoops, ScheduledExecutorService scheduler,
                                                Clock clock) {
        List<RegistryClient> clients = new ArrayList<>();
        for (Endpoint endpoint : upstream.endpoints()) {
            clients.add(HttpRegistryClient.create(endpoint.settings(), executor, blobLoops, scheduler, clock));
        }
        return new FailoverRegistryClient(upstream, clients, () -> TimeUnit.MILLISECONDS.toNanos(clock.millis()), clock);
    }

    @Override
    public String registry() {
        return registry;
    }

    @Override
    public CompletableFuture<ManifestHead> headManifest(RepositoryName name, Reference reference) {
        return run(Fetch.manifest("HEAD", name, reference).what(), name,
                (client, there) -> client.headManifest(there, reference)).thenApply(head -> {
                    head.rateLimitRemaining().ifPresent(left -> pullQuota.set(new PullQuota(left, clock.instant())));
                    return head;
                });
    }

    @Override
    public CompletableFuture<ManifestBytes> getManifest(RepositoryName name, Reference reference) {
        return run(Fetch.manifest("GET", name, reference).what(), name,
                (client, there) -> client.getManifest(there, reference));
    }

    @Override
    public CompletableFuture<BlobHead> headBlob(RepositoryName name, Digest digest) {
        return run(Fetch.blob("HEAD", name, digest).what(), name, (client, there) -> client.headBlob(there, digest));
    }

    @Override
    public CompletableFuture<BlobBody> getBlob(RepositoryName name, Digest digest) {
        return run(Fetch.blob("GET", name, digest).what(), name, (client, there) -> client.getBlob(there, digest));
    }

    @Override
    public CompletableFuture<TagList> listTags(RepositoryName name, OptionalInt n, Optional<String> last) {
        return run(Fetch.tags(name, n, last).what(), name, (client, there) -> client.listTags(there, n, last));
    }

    @Override
    public CompletableFuture<UpstreamReferrers> listReferrers(RepositoryName name, Digest subject,
                                                              Optional<String> artifactType) {
        return run(Fetch.referrers(name, subject, artifactType).what(), name,
                (client, there) -> client.listReferrers(there, subject, artifactType));
    }

    /** Each endpoint's state now, in the configured order. */
    public List<EndpointStatus> endpoints() {
        long now = nanoTime.getAsLong();
        Instant wallNow = clock.instant();
        return endpoints.stream().map(endpoint -> endpoint.status(now, wallNow)).toList();
    }

    /** The pulls the upstream last said were left, if it ever said (Docker Hub does, on manifest HEADs). */
    public Optional<PullQuota> pullQuota() {
        return Optional.ofNullable(pullQuota.get());
    }

    private <T> CompletableFuture<T> run(String what, RepositoryName name,
                                         BiFunction<RegistryClient, RepositoryName, CompletableFuture<T>> call) {
        long now = nanoTime.getAsLong();
        List<FailoverEndpoint> order = endpoints.stream().filter(endpoint -> !endpoint.skipped(now)).toList();
        if (order.isEmpty()) {
            order = List.of(endpoints.get(0));
        }
        return new FailoverAttempt<>(what, registry, name, call, order, endpoints.size(),
                endpoints.size() - order.size(), nanoTime).start();
    }
}
