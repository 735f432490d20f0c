package dev.regmirror.core.client;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.regmirror.core.client.auth.TokenCache;
import dev.regmirror.core.error.UpstreamErrorException;
import dev.regmirror.core.manifest.ManifestBytes;
import dev.regmirror.core.manifest.MediaTypes;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.reference.Reference;
import dev.regmirror.core.reference.RepositoryName;
import dev.regmirror.core.upstream.EndpointSettings;
import io.netty.buffer.ByteBuf;
import java.time.Clock;
import java.util.Arrays;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.Flow;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * The {@link RegistryClient} of one endpoint: everything asynchronous on Netty's HTTP/1.1 client
 * ({@link NettyWire}) over kept-alive connections, token requests included; blob bodies streamed in
 * pooled direct buffers with back-pressure and a read timeout, manifests, tag lists and referrers read
 * whole (manifests at most 4 MiB) and verified.
 */
public final class HttpRegistryClient implements RegistryClient {

    /** How regmirror names itself to upstreams and token services. */
    public static final String USER_AGENT = "regmirror/0.1.0";
    /** The largest manifest read from an endpoint, in bytes. */
    public static final int MAX_MANIFEST = ManifestCheck.MAX_MANIFEST;

    private final EndpointSettings settings;
    private final NettyWire wire;
    /** Every request to the endpoint, with its token, credential and redirect rules. */
    private final Exchange exchange;
    private final Failures failures;
    private final UpstreamErrors errors;
    private final ManifestCheck manifests;

    /**
     * @param loops     the event loops every request is read on, owned by the caller
     * @param executor  where host names are looked up and answers handed on
     * @param tokens    the token cache, which may be shared between upstreams
     * @param scheduler runs the read timeouts of bodies
     * @throws IllegalArgumentException if the endpoint's CA file cannot be read or holds no certificate,
     *                                  or its proxy is not an {@code http://} URL
     */
    public HttpRegistryClient(EndpointSettings settings, ClientLoops loops, Executor executor, TokenCache tokens,
                              ScheduledExecutorService scheduler) {
        this.settings = Objects.requireNonNull(settings, "settings");
        Objects.requireNonNull(loops, "loops");
        Objects.requireNonNull(executor, "executor");
        Objects.requireNonNull(tokens, "tokens");
        Objects.requireNonNull(scheduler, "scheduler");
        this.failures = new Failures(settings);
        this.errors = new UpstreamErrors(settings, failures);
        this.manifests = new ManifestCheck(failures);
        this.wire = new NettyWire(settings, loops, executor, scheduler, failures);
        this.exchange = new Exchange(settings, wire, tokens, new TokenFetcher(settings, wire, failures, errors),
                failures);
    }

    /** A client with requests read on {@code loops}, and its own token cache on {@code clock}. */
    public static HttpRegistryClient create(EndpointSettings settings, Executor executor, ClientLoops loops,
                                            ScheduledExecutorService scheduler, Clock clock) {
        Ticker ticker = () -> TimeUnit.MILLISECONDS.toNanos(clock.millis());
        return new HttpRegistryClient(settings, loops, executor, new TokenCache(ticker), scheduler);
    }

    @Override
    public String registry() {
        return settings.registry();
    }

    @Override
    public CompletableFuture<ManifestHead> headManifest(RepositoryName name, Reference reference) {
        return head(Fetch.manifest("HEAD", name, reference), response -> new ManifestHead(
                ManifestCheck.declaredDigest(response.headers()),
                MediaTypes.essence(response.headers().firstValue("Content-Type").orElse("")),
                response.contentLength(), ManifestHead.rateLimitRemaining(response.headers())));
    }

    @Override
    public CompletableFuture<ManifestBytes> getManifest(RepositoryName name, Reference reference) {
        Fetch fetch = Fetch.manifest("GET", name, reference);
        return failures.mapping(fetch.what(), () -> exchange.send(fetch).thenCompose(response -> {
            if (response.status() != 200) {
                return failed(fetch, response);
            }
            if (response.contentLength() > ManifestCheck.MAX_MANIFEST) {
                exchange.discard(response.body());
                throw failures.protocol(fetch.what(), "manifest of " + response.contentLength()
                        + " bytes is larger than " + ManifestCheck.MAX_MANIFEST, 200);
            }
            return wire.collect(response.body(), ManifestCheck.MAX_MANIFEST)
                    .thenApply(bytes -> manifests.check(fetch, reference, response.headers(), bytes));
        }));
    }

    @Override
    public CompletableFuture<BlobHead> headBlob(RepositoryName name, Digest digest) {
        return head(Fetch.blob("HEAD", name, digest), response -> new BlobHead(response.contentLength()));
    }

    /**
     * A HEAD over the Netty wire: its (empty) body let go of at once, which leaves the connection
     * kept alive; a 200 read by {@code answer}, anything else an error from its status and headers.
     */
    private <T> CompletableFuture<T> head(Fetch fetch, Function<UpstreamResponse<?>, T> answer) {
        return failures.mapping(fetch.what(), () -> exchange.send(fetch).thenApply(response -> {
            exchange.discard(response.body());
            if (response.status() != 200) {
                throw errors.from(fetch, response.status(), response.headers(), Optional.empty());
            }
            return answer.apply(response);
        }));
    }

    @Override
    public CompletableFuture<BlobBody> getBlob(RepositoryName name, Digest digest) {
        Fetch fetch = Fetch.blob("GET", name, digest);
        return failures.mapping(fetch.what(), () -> exchange.send(fetch).thenCompose(response -> response.status() == 200
                ? CompletableFuture.completedFuture(new StreamedBlob(response.contentLength(), response.body()))
                : failed(fetch, response)));
    }

    @Override
    public CompletableFuture<TagList> listTags(RepositoryName name, OptionalInt n, Optional<String> last) {
        Fetch fetch = Fetch.tags(name, n, last);
        return failures.mapping(fetch.what(), () -> exchange.send(fetch).thenCompose(response -> {
            if (response.status() != 200) {
                return failed(fetch, response);
            }
            return wire.collect(response.body(), TagLists.MAX_BODY)
                    .thenApply(bytes -> TagLists.parse(bytes, response.headers(),
                            problem -> failures.protocol(fetch.what(), problem, 200)));
        }));
    }

    /**
     * The referrers API; on its 404 (a registry without it, such as distribution 2.8), the tag
     * schema's tag, read as a manifest; on that tag's 404 too, {@link UpstreamReferrers.None}.
     */
    @Override
    public CompletableFuture<UpstreamReferrers> listReferrers(RepositoryName name, Digest subject,
                                                              Optional<String> artifactType) {
        Fetch fetch = Fetch.referrers(name, subject, artifactType);
        return failures.mapping(fetch.what(), () -> exchange.send(fetch).thenCompose(response -> {
            if (response.status() == 404) {
                exchange.discard(response.body());
                return tagSchema(name, subject);
            }
            if (response.status() != 200) {
                return failed(fetch, response);
            }
            if (response.contentLength() > ManifestCheck.MAX_MANIFEST) {
                exchange.discard(response.body());
                throw failures.protocol(fetch.what(), "referrers list of " + response.contentLength()
                        + " bytes is larger than " + ManifestCheck.MAX_MANIFEST, 200);
            }
            String mediaType = MediaTypes.essence(response.headers().firstValue("Content-Type")
                    .orElse(MediaTypes.OCI_INDEX));
            boolean filtered = artifactType.isPresent() && response.headers().allValues("OCI-Filters-Applied").stream()
                    .flatMap(value -> Arrays.stream(value.split(",")))
                    .anyMatch(filter -> filter.trim().equals("artifactType"));
            return wire.collect(response.body(), ManifestCheck.MAX_MANIFEST)
                    .thenApply(bytes -> (UpstreamReferrers) new UpstreamReferrers.Listed(bytes,
                            mediaType.isEmpty() ? MediaTypes.OCI_INDEX : mediaType, filtered));
        }));
    }

    private CompletableFuture<UpstreamReferrers> tagSchema(RepositoryName name, Digest subject) {
        return getManifest(name, UpstreamReferrers.tagOf(subject)).handle((index, failure) -> {
            if (failure == null) {
                return (UpstreamReferrers) new UpstreamReferrers.Tagged(index);
            }
            Throwable cause = Failures.unwrap(failure);
            if (cause instanceof UpstreamErrorException error && error.isNotFound()) {
                return new UpstreamReferrers.None();
            }
            throw cause instanceof RuntimeException runtime ? runtime : new CompletionException(cause);
        });
    }

    /** Reads (at most 64 KiB of) an error body and fails with what it and the status say. */
    private <T> CompletableFuture<T> failed(Fetch fetch, UpstreamResponse<Flow.Publisher<ByteBuf>> response) {
        return wire.collect(response.body(), UpstreamErrors.MAX_BODY)
                .handle((bytes, unreadable) -> Optional.ofNullable(bytes))
                .thenApply(body -> {
                    throw errors.from(fetch, response.status(), response.headers(), body);
                });
    }
}
