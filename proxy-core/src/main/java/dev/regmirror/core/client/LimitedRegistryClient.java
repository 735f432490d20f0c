package dev.regmirror.core.client;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.regmirror.core.manifest.ManifestBytes;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.reference.Reference;
import dev.regmirror.core.reference.RepositoryName;
import dev.regmirror.core.upstream.UpstreamLimits;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.BiFunction;
import java.util.function.Supplier;

/**
 * Keeps an upstream's requests within its {@link UpstreamLimits}: each request waits for its turn
 * (in the order they came) before it is passed on, and holds it until it is answered; a blob's
 * request holds it until its body is read to the end, fails or is cancelled. A request that waits
 * longer than the read timeout fails with 503 UNAVAILABLE naming the limit:
 * "pull manifest latest of library/alpine from docker.io: waited 60s for one of 2 connections
 * (regmirror.upstreams.dockerhub.max-connections)".
 *
 * <p>Wraps the whole upstream, failover included: a request goes to one endpoint at a time, so
 * turns bound the requests in flight to all endpoints together, and the time a request waited is
 * never taken for a failure of an endpoint. Waiting requests are counted in
 * {@code regmirror.upstream.waiting}, waits that ran out in {@code regmirror.upstream.wait.timeouts}.
 */
public final class LimitedRegistryClient implements RegistryClient {

    private final RegistryClient delegate;
    private final UpstreamPermits permits;
    private final Duration maxWait;
    private final ScheduledExecutorService scheduler;

    /**
     * @param executor  where a request that waited resumes (the upstream's executor)
     * @param scheduler runs the deadlines of waits and the refills of the rate
     * @param ticker    the time the rate is measured on
     */
    public LimitedRegistryClient(RegistryClient delegate, UpstreamLimits limits, Executor executor,
                                 ScheduledExecutorService scheduler, Ticker ticker, MeterRegistry meters) {
        this.delegate = delegate;
        this.permits = new UpstreamPermits(delegate.registry(), limits, scheduler, executor, ticker, meters);
        this.maxWait = limits.maxWait();
        this.scheduler = scheduler;
    }

    @Override
    public String registry() {
        return delegate.registry();
    }

    @Override
    public CompletableFuture<ManifestHead> headManifest(RepositoryName name, Reference reference) {
        return answered(Fetch.manifest("HEAD", name, reference), () -> delegate.headManifest(name, reference));
    }

    @Override
    public CompletableFuture<ManifestBytes> getManifest(RepositoryName name, Reference reference) {
        return answered(Fetch.manifest("GET", name, reference), () -> delegate.getManifest(name, reference));
    }

    @Override
    public CompletableFuture<BlobHead> headBlob(RepositoryName name, Digest digest) {
        return answered(Fetch.blob("HEAD", name, digest), () -> delegate.headBlob(name, digest));
    }

    /** Holds the turn past the answer, until the body is over. */
    @Override
    public CompletableFuture<BlobBody> getBlob(RepositoryName name, Digest digest) {
        Fetch fetch = Fetch.blob("GET", name, digest);
        String what = fetch.what() + " from " + registry();
        return limited(fetch, () -> delegate.getBlob(name, digest),
                (body, permit) -> PermitBody.holding(body, permit, what, maxWait, scheduler));
    }

    @Override
    public CompletableFuture<TagList> listTags(RepositoryName name, OptionalInt n, Optional<String> last) {
        return answered(Fetch.tags(name, n, last), () -> delegate.listTags(name, n, last));
    }

    @Override
    public CompletableFuture<UpstreamReferrers> listReferrers(RepositoryName name, Digest subject,
                                                              Optional<String> artifactType) {
        return answered(Fetch.referrers(name, subject, artifactType),
                () -> delegate.listReferrers(name, subject, artifactType));
    }

    /** Requests that are over once answered. */
    private <T> CompletableFuture<T> answered(Fetch fetch, Supplier<CompletableFuture<T>> call) {
        return limited(fetch, call, (value, permit) -> {
            permit.release();
            return value;
        });
    }

    /**
     * Waits for a turn, then makes the call; a failed call lets the turn go, a successful one hands
     * its answer and the turn to {@code keep}. Fails with the exception itself, never a
     * CompletionException around it.
     */
    private <T> CompletableFuture<T> limited(Fetch fetch, Supplier<CompletableFuture<T>> call,
                                             BiFunction<T, UpstreamPermits.Permit, T> keep) {
        CompletableFuture<T> result = new CompletableFuture<>();
        permits.acquire(fetch.what()).whenComplete((permit, waited) -> {
            if (waited != null) {
                result.completeExceptionally(Failures.unwrap(waited));
                return;
            }
            CompletableFuture<T> answer;
            try {
                answer = call.get();
            } catch (RuntimeException e) {
                answer = CompletableFuture.failedFuture(e);
            }
            answer.whenComplete((value, failure) -> {
                if (failure != null) {
                    permit.release();
                    result.completeExceptionally(Failures.unwrap(failure));
                    return;
                }
                try {
                    result.complete(keep.apply(value, permit));
                } catch (RuntimeException e) {
                    permit.release();
                    result.completeExceptionally(e);
                }
            });
        });
        return result;
    }
}
