package dev.regmirror.core.mirror;

import dev.regmirror.core.error.ProxyException;
import dev.regmirror.core.error.RegistryErrorCode;
import dev.regmirror.core.error.UpstreamErrorException;
import dev.regmirror.core.error.UpstreamUnavailableException;
import dev.regmirror.core.manifest.PlatformFilter;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.reference.Reference;
import dev.regmirror.core.upstream.Route;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/** One prefetch as {@link PrefetchJobs} runs it: what was asked for, its state and its progress. */
public final class PrefetchJob {

    /** Where a job is. */
    public enum State { queued, running, succeeded, failed }

    /**
     * Why a job failed, as the upstream (or the cache) said it.
     *
     * @param upstream the registry that answered, empty when the failure was not the upstream's
     */
    public record Failure(RegistryErrorCode code, String message, Optional<String> upstream) {

        public Failure {
            Objects.requireNonNull(code, "code");
            Objects.requireNonNull(message, "message");
            Objects.requireNonNull(upstream, "upstream");
        }

        static Failure of(Throwable failure) {
            Throwable cause = Futures.unwrap(failure);
            if (cause instanceof UpstreamErrorException e) {
                return new Failure(e.code(), e.getMessage(), Optional.of(e.upstream()));
            }
            if (cause instanceof UpstreamUnavailableException e) {
                return new Failure(e.code(), e.getMessage(), Optional.ofNullable(e.upstream()));
            }
            if (cause instanceof ProxyException e) {
                return new Failure(e.code(), e.getMessage() == null ? e.code().defaultMessage() : e.getMessage(),
                        Optional.empty());
            }
            return new Failure(RegistryErrorCode.UNKNOWN, String.valueOf(cause.getMessage()), Optional.empty());
        }
    }

    /** A job as it is at one moment. */
    public record Status(String id, Route route, Reference reference, Optional<Digest> digest, List<String> platforms,
                         State state, long bytesDone, long bytesTotal, int blobsDone, int blobsTotal,
                         int blobsAlreadyCached, Instant created, Optional<Instant> started,
                         Optional<Instant> finished, Optional<Failure> failure) {

        /** The image as resolved: {@code docker.io/library/alpine:3.19} or {@code …@sha256:…}. */
        public String image() {
            return route + (reference instanceof Digest ? "@" : ":") + reference;
        }
    }

    private final String id;
    private final Route route;
    private final Reference reference;
    private final PlatformFilter platforms;
    private final Instant created;
    private final PrefetchProgress progress = new PrefetchProgress();
    private volatile State state = State.queued;
    private volatile Instant started;
    private volatile Instant finished;
    private volatile Failure failure;

    PrefetchJob(String id, Route route, Reference reference, PlatformFilter platforms, Instant created) {
        this.id = id;
        this.route = route;
        this.reference = reference;
        this.platforms = platforms;
        this.created = created;
    }

    public String id() {
        return id;
    }

    Route route() {
        return route;
    }

    Reference reference() {
        return reference;
    }

    PlatformFilter platforms() {
        return platforms;
    }

    PrefetchProgress progress() {
        return progress;
    }

    boolean finished() {
        State now = state;
        return now == State.succeeded || now == State.failed;
    }

    void started(Instant at) {
        started = at;
        state = State.running;
    }

    void succeeded(Instant at) {
        finished = at;
        state = State.succeeded;
    }

    void failed(Instant at, Failure why) {
        failure = why;
        finished = at;
        state = State.failed;
    }

    /** The job now; the state is read first, so a finished job's figures are final. */
    public Status status() {
        State now = state;
        boolean finished = now == State.succeeded || now == State.failed;
        return new Status(id, route, reference, progress.digest(), platforms.names(), now, progress.bytesDone(),
                progress.bytesTotal(), progress.blobsDone(), progress.blobsTotal(), progress.blobsAlreadyCached(),
                created, now == State.queued ? Optional.empty() : Optional.ofNullable(started),
                finished ? Optional.ofNullable(this.finished) : Optional.empty(),
                now == State.failed ? Optional.ofNullable(failure) : Optional.empty());
    }
}
