package dev.regmirror.core.client;

import dev.regmirror.core.error.UpstreamErrorException;
import dev.regmirror.core.error.UpstreamUnavailableException;
import dev.regmirror.core.manifest.ManifestBytes;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.reference.Reference;
import dev.regmirror.core.reference.RepositoryName;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.netty.buffer.ByteBuf;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;

/**
 * Measures what one upstream costs: each request's latency until the upstream answered (for a blob,
 * until its headers, not the whole body) as {@code regmirror.upstream.requests} by operation and
 * outcome, and the bytes received from it (manifests, referrers lists and blob bodies) as
 * {@code regmirror.upstream.bytes}. Wraps the upstream's client, failover included, so the latency
 * is what a request waited for.
 */
public final class MeteredRegistryClient implements RegistryClient {

    private final RegistryClient delegate;
    private final MeterRegistry meters;
    private final Counter bytes;

    public MeteredRegistryClient(RegistryClient delegate, MeterRegistry meters) {
        this.delegate = delegate;
        this.meters = meters;
        this.bytes = Counter.builder("regmirror.upstream.bytes").baseUnit("bytes")
                .description("bytes received from the upstream: manifests and blob bodies")
                .tag("upstream", delegate.registry()).register(meters);
    }

    @Override
    public String registry() {
        return delegate.registry();
    }

    @Override
    public CompletableFuture<ManifestHead> headManifest(RepositoryName name, Reference reference) {
        return timed("manifest_head", delegate.headManifest(name, reference));
    }

    @Override
    public CompletableFuture<ManifestBytes> getManifest(RepositoryName name, Reference reference) {
        return timed("manifest_get", delegate.getManifest(name, reference)).thenApply(manifest -> {
            bytes.increment(manifest.bytes().length);
            return manifest;
        });
    }

    @Override
    public CompletableFuture<BlobHead> headBlob(RepositoryName name, Digest digest) {
        return timed("blob_head", delegate.headBlob(name, digest));
    }

    @Override
    public CompletableFuture<BlobBody> getBlob(RepositoryName name, Digest digest) {
        return timed("blob_get", delegate.getBlob(name, digest)).thenApply(CountedBody::new);
    }

    @Override
    public CompletableFuture<TagList> listTags(RepositoryName name, OptionalInt n, Optional<String> last) {
        return timed("tags_list", delegate.listTags(name, n, last));
    }

    @Override
    public CompletableFuture<UpstreamReferrers> listReferrers(RepositoryName name, Digest subject,
                                                              Optional<String> artifactType) {
        return timed("referrers_list", delegate.listReferrers(name, subject, artifactType)).thenApply(answer -> {
            if (answer instanceof UpstreamReferrers.Listed listed) {
                bytes.increment(listed.index().length);
            } else if (answer instanceof UpstreamReferrers.Tagged tagged) {
                bytes.increment(tagged.index().bytes().length);
            }
            return answer;
        });
    }

    private <T> CompletableFuture<T> timed(String operation, CompletableFuture<T> request) {
        long started = System.nanoTime();
        return request.whenComplete((result, failure) -> Timer.builder("regmirror.upstream.requests")
                .description("requests to the upstream, until it answered")
                .tags("upstream", delegate.registry(), "operation", operation, "outcome", outcome(failure))
                .register(meters).record(System.nanoTime() - started, TimeUnit.NANOSECONDS));
    }

    /** {@code ok}, the upstream's status such as {@code 404}, or {@code unavailable}. */
    private static String outcome(Throwable failure) {
        Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
        if (cause == null) {
            return "ok";
        }
        if (cause instanceof UpstreamErrorException error) {
            return String.valueOf(error.upstreamStatus());
        }
        if (cause instanceof UpstreamUnavailableException) {
            return "unavailable";
        }
        return "error";
    }

    /** The body with its bytes counted as they arrive. */
    private final class CountedBody implements BlobBody {

        private final BlobBody body;

        CountedBody(BlobBody body) {
            this.body = body;
        }

        @Override
        public long contentLength() {
            return body.contentLength();
        }

        @Override
        public Flow.Publisher<ByteBuf> publisher() {
            Flow.Publisher<ByteBuf> publisher = body.publisher();
            return subscriber -> publisher.subscribe(new Flow.Subscriber<>() {
                @Override
                public void onSubscribe(Flow.Subscription subscription) {
                    subscriber.onSubscribe(subscription);
                }

                @Override
                public void onNext(ByteBuf buffer) {
                    bytes.increment(buffer.readableBytes());
                    subscriber.onNext(buffer);
                }

                @Override
                public void onError(Throwable failure) {
                    subscriber.onError(failure);
                }

                @Override
                public void onComplete() {
                    subscriber.onComplete();
                }
            });
        }
    }
}
