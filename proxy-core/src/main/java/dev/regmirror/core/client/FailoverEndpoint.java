package dev.regmirror.core.client;

import dev.regmirror.core.error.UpstreamErrorException;
import dev.regmirror.core.error.UpstreamUnavailableException;
import dev.regmirror.core.reference.RepositoryName;
import dev.regmirror.core.upstream.Endpoint;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One endpoint of a {@link FailoverRegistryClient}: its client, how names are written there, what
 * its failures mean for the request, and whether it failed recently enough to be skipped.
 */
final class FailoverEndpoint {

    private static final Logger log = LoggerFactory.getLogger(FailoverRegistryClient.class);

    /** What a failed call to the endpoint means for the request. */
    enum Verdict {
        /** The failure is the answer: the client sees it, no other endpoint is asked. */
        ANSWER,
        /** The endpoint could not serve this one request; ask the next. */
        NEXT,
        /** The endpoint is down or overloaded: ask the next, and skip this one for a while. */
        NEXT_AND_SKIP
    }

    private final Endpoint endpoint;
    private final RegistryClient client;
    private final String registry;
    private final Duration skip;
    /** The {@code nanoTime} until which the endpoint is skipped, or null while it is healthy. */
    private final AtomicReference<Long> skippedUntil = new AtomicReference<>();
    /** The last failure that started or restarted the skip window, and its {@code nanoTime}. */
    private final AtomicReference<LastFailure> lastFailure = new AtomicReference<>();

    private record LastFailure(String message, long at) {
    }

    FailoverEndpoint(Endpoint endpoint, RegistryClient client, String registry, Duration skip) {
        this.endpoint = endpoint;
        this.client = client;
        this.registry = registry;
        this.skip = skip;
    }

    RegistryClient client() {
        return client;
    }

    /** The name in the endpoint's layout for a name in the upstream's own naming. */
    RepositoryName nameThere(RepositoryName name) {
        return endpoint.rewrite().apply(name);
    }

    /** Whether the endpoint is a partial mirror whose "not found" only means "not here". */
    boolean partial() {
        return endpoint.partial();
    }

    /**
     * Whether the endpoint is in its skip window at {@code now}; a window that seems longer than the
     * configured skip (the clock went back) counts as over.
     */
    boolean skipped(long now) {
        Long until = skippedUntil.get();
        return until != null && until - now > 0 && until - now <= skip.toNanos();
    }

    /**
     * Connection failures, timeouts, 5xx and 429 move on and start the skip window; a 404 moves on
     * from a partial endpoint only; a 2xx or 3xx answer that could not be used (a digest mismatch, a
     * body that is no tag list, a redirect loop) moves on; 401, 403 and other 4xx are the answer.
     */
    Verdict judge(Throwable failure) {
        if (failure instanceof UpstreamUnavailableException) {
            return Verdict.NEXT_AND_SKIP;
        }
        if (!(failure instanceof UpstreamErrorException error)) {
            return Verdict.ANSWER;
        }
        int status = error.upstreamStatus();
        if (status >= 500 || status == 429) {
            return Verdict.NEXT_AND_SKIP;
        }
        if (error.isNotFound()) {
            return endpoint.partial() ? Verdict.NEXT : Verdict.ANSWER;
        }
        return status < 400 ? Verdict.NEXT : Verdict.ANSWER;
    }

    /** Starts (or restarts) the skip window; logs when a healthy endpoint starts failing. */
    void failed(long now, Throwable failure) {
        Long before = skippedUntil.getAndSet(now + skip.toNanos());
        lastFailure.set(new LastFailure(String.valueOf(failure.getMessage()), now));
        if (before == null) {
            log.warn("endpoint {} of {} failed ({}); skipping it for {}", shown(), registry, failure.getMessage(),
                    Failures.seconds(skip));
        } else {
            log.debug("endpoint {} of {} failed again ({}); skipping it for {}", shown(), registry,
                    failure.getMessage(), Failures.seconds(skip));
        }
    }

    /** The endpoint answered (with content or an error of its own): it is healthy again. */
    void answered() {
        if (skippedUntil.get() != null && skippedUntil.getAndSet(null) != null) {
            log.info("endpoint {} of {} answers again", shown(), registry);
        }
    }

    /** Its state at {@code now} ({@code nanoTime}), whose wall-clock time is {@code wallNow}. */
    EndpointStatus status(long now, Instant wallNow) {
        LastFailure last = lastFailure.get();
        Long until = skippedUntil.get();
        return new EndpointStatus(shown(), skipped(now) ? Optional.of(wallNow.plusNanos(until - now)) : Optional.empty(),
                Optional.ofNullable(last).map(LastFailure::message),
                Optional.ofNullable(last).map(failure -> wallNow.minusNanos(now - failure.at())));
    }

    /** The endpoint's URL without any user information. */
    String shown() {
        URI url = endpoint.settings().url();
        return url.getScheme() + "://" + url.getHost() + (url.getPort() < 0 ? "" : ":" + url.getPort())
                + (url.getRawPath() == null ? "" : url.getRawPath());
    }
}
