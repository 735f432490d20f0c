package dev.regmirror.core.mirror;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.regmirror.core.error.InvalidRequestException;
import dev.regmirror.core.error.RegistryErrorCode;
import dev.regmirror.core.error.UpstreamErrorException;
import dev.regmirror.core.error.UpstreamUnavailableException;
import dev.regmirror.core.manifest.PlatformFilter;
import dev.regmirror.core.reference.ImageReference;
import dev.regmirror.core.testing.MutableClock;
import dev.regmirror.core.upstream.Endpoint;
import dev.regmirror.core.upstream.EndpointSettings;
import dev.regmirror.core.upstream.UpstreamRouter;
import dev.regmirror.core.upstream.UpstreamSettings;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Job bookkeeping: routing, queueing behind the running limit, states and times, failures, the bound. */
class PrefetchJobsTest {

    private final MutableClock clock = new MutableClock(Instant.parse("2026-11-22T12:00:00Z"));
    private final List<CompletableFuture<PulledImage>> pulls = new ArrayList<>();
    private final List<String> pulled = new ArrayList<>();
    private final AtomicInteger ids = new AtomicInteger();
    private final UpstreamRouter router = new UpstreamRouter(List.of(new UpstreamSettings("docker.io", List.of(),
            List.of(), "library", List.of(Endpoint.of(EndpointSettings.anonymous("docker.io",
            URI.create("https://registry-1.docker.io"), Duration.ofSeconds(1), Duration.ofSeconds(1)))),
            Duration.ofSeconds(30))), "docker.io", Map.of());

    private PrefetchJobs jobs(int maxRunning, int maxKept) {
        return new PrefetchJobs(router, (route, reference, platforms, progress) -> {
            pulled.add(route + ":" + reference + " " + platforms.names());
            CompletableFuture<PulledImage> pull = new CompletableFuture<>();
            pulls.add(pull);
            return pull;
        }, Runnable::run, clock, () -> "job" + ids.incrementAndGet(), maxRunning, maxKept);
    }

    @Test
    void aJobIsRoutedLikeAPullAndRunsAtOnceWhenASlotIsFree() {
        PrefetchJobs jobs = jobs(2, 10);
        PrefetchJob.Status status = jobs.submit(ImageReference.parse("alpine:3.19"), PlatformFilter.parse(List.of("linux/amd64")));
        assertEquals("docker.io/library/alpine:3.19", status.image());
        assertEquals(List.of("docker.io/library/alpine:3.19 [linux/amd64]"), pulled);
        PrefetchJob.Status running = jobs.get(status.id()).orElseThrow();
        assertEquals(PrefetchJob.State.running, running.state());
        assertEquals(Optional.of(clock.instant()), running.started());
        assertEquals(Optional.empty(), running.finished());
    }

    @Test
    void jobsBeyondTheRunningLimitWaitQueuedAndStartAsOthersFinish() {
        PrefetchJobs jobs = jobs(1, 10);
        String first = jobs.submit(ImageReference.parse("a"), PlatformFilter.ALL).id();
        String second = jobs.submit(ImageReference.parse("b"), PlatformFilter.ALL).id();
        assertEquals(PrefetchJob.State.queued, jobs.get(second).orElseThrow().state());
        assertEquals(1, pulls.size(), "the second has not started");
        clock.advance(Duration.ofSeconds(5));
        pulls.get(0).complete(null);
        PrefetchJob.Status done = jobs.get(first).orElseThrow();
        assertEquals(PrefetchJob.State.succeeded, done.state());
        assertEquals(Optional.of(Instant.parse("2026-11-22T12:00:05Z")), done.finished());
        assertEquals(PrefetchJob.State.running, jobs.get(second).orElseThrow().state());
        assertEquals(2, pulls.size());
    }

    /**
     * An executor that refuses jobs (the mirror shutting down) fails them and frees their slot:
     * before, a refused job stayed queued forever and kept its slot, and with two slots gone no
     * prefetch ever ran again.
     */
    @Test
    void aJobTheExecutorRefusesFailsAndFreesItsSlot() {
        AtomicInteger refusals = new AtomicInteger(2);
        PrefetchJobs jobs = new PrefetchJobs(router, (route, reference, platforms, progress) -> {
            CompletableFuture<PulledImage> pull = new CompletableFuture<>();
            pulls.add(pull);
            return pull;
        }, work -> {
            if (refusals.getAndDecrement() > 0) {
                throw new java.util.concurrent.RejectedExecutionException("shutting down");
            }
            work.run();
        }, clock, () -> "job" + ids.incrementAndGet(), 1, 10);
        PrefetchJob.Status first = jobs.submit(ImageReference.parse("a"), PlatformFilter.ALL);
        PrefetchJob.Status second = jobs.submit(ImageReference.parse("b"), PlatformFilter.ALL);
        assertEquals(PrefetchJob.State.failed, jobs.get(first.id()).orElseThrow().state());
        assertEquals(PrefetchJob.State.failed, jobs.get(second.id()).orElseThrow().state());
        assertEquals("shutting down", jobs.get(first.id()).orElseThrow().failure().orElseThrow().message());

        PrefetchJob.Status third = jobs.submit(ImageReference.parse("c"), PlatformFilter.ALL);
        assertEquals(PrefetchJob.State.running, jobs.get(third.id()).orElseThrow().state(), "the slot is free again");
    }

    @Test
    void aFailedJobKeepsTheUpstreamsErrorAsItWasGiven() {
        PrefetchJobs jobs = jobs(2, 10);
        String missing = jobs.submit(ImageReference.parse("nothere:1"), PlatformFilter.ALL).id();
        String down = jobs.submit(ImageReference.parse("down:1"), PlatformFilter.ALL).id();
        pulls.get(0).completeExceptionally(new UpstreamErrorException(RegistryErrorCode.NAME_UNKNOWN,
                "pull manifest 1 of library/nothere from docker.io: upstream answered 404 NAME_UNKNOWN", null,
                "docker.io", 404, Map.of()));
        pulls.get(1).completeExceptionally(new java.util.concurrent.CompletionException(
                new UpstreamUnavailableException("docker.io", "docker.io: connection refused", null)));
        PrefetchJob.Status failed = jobs.get(missing).orElseThrow();
        assertEquals(PrefetchJob.State.failed, failed.state());
        assertEquals(new PrefetchJob.Failure(RegistryErrorCode.NAME_UNKNOWN,
                "pull manifest 1 of library/nothere from docker.io: upstream answered 404 NAME_UNKNOWN",
                Optional.of("docker.io")), failed.failure().orElseThrow());
        assertEquals(new PrefetchJob.Failure(RegistryErrorCode.UNAVAILABLE, "docker.io: connection refused",
                Optional.of("docker.io")), jobs.get(down).orElseThrow().failure().orElseThrow());
    }

    @Test
    void aPullThatThrowsFailsItsJobAndFreesTheSlot() {
        PrefetchJobs jobs = new PrefetchJobs(router, (route, reference, platforms, progress) -> {
            throw new IllegalStateException("boom");
        }, Runnable::run, clock, () -> "job" + ids.incrementAndGet(), 1, 10);
        String first = jobs.submit(ImageReference.parse("a"), PlatformFilter.ALL).id();
        String second = jobs.submit(ImageReference.parse("b"), PlatformFilter.ALL).id();
        assertEquals(RegistryErrorCode.UNKNOWN, jobs.get(first).orElseThrow().failure().orElseThrow().code());
        assertEquals(PrefetchJob.State.failed, jobs.get(second).orElseThrow().state(), "it ran after the first");
    }

    @Test
    void anUnroutableNameIsRefusedWithoutAJob() {
        PrefetchJobs jobs = jobs(1, 10);
        InvalidRequestException e = assertThrows(InvalidRequestException.class,
                () -> jobs.submit(ImageReference.parse("unknown.example/app:1"), PlatformFilter.ALL));
        assertEquals(RegistryErrorCode.NAME_UNKNOWN, e.code());
        assertEquals(List.of(), jobs.list());
    }

    @Test
    void onlyTheNewestJobsAreKeptNeverOneThatIsStillRunning() {
        PrefetchJobs jobs = jobs(1, 2);
        String running = jobs.submit(ImageReference.parse("a"), PlatformFilter.ALL).id();
        jobs.submit(ImageReference.parse("b"), PlatformFilter.ALL);
        jobs.submit(ImageReference.parse("c"), PlatformFilter.ALL);
        assertEquals(3, jobs.list().size(), "none has finished, so none is forgotten");
        pulls.get(0).complete(null);
        pulls.get(1).complete(null);
        String last = jobs.submit(ImageReference.parse("d"), PlatformFilter.ALL).id();
        List<String> kept = jobs.list().stream().map(PrefetchJob.Status::id).toList();
        assertEquals(2, kept.size(), kept.toString());
        assertEquals(last, kept.get(0), "newest first");
        assertTrue(jobs.get(running).isEmpty(), "the oldest finished job went first");
    }

    @Test
    void theQueueIsBoundedByHowManyJobsAreKept() {
        PrefetchJobs jobs = jobs(1, 2);
        jobs.submit(ImageReference.parse("a"), PlatformFilter.ALL);
        jobs.submit(ImageReference.parse("b"), PlatformFilter.ALL);
        jobs.submit(ImageReference.parse("c"), PlatformFilter.ALL);
        InvalidRequestException full = assertThrows(InvalidRequestException.class,
                () -> jobs.submit(ImageReference.parse("d"), PlatformFilter.ALL));
        assertEquals(RegistryErrorCode.TOOMANYREQUESTS, full.code());
        assertEquals(3, jobs.list().size(), "the refused job was not kept");
        pulls.get(0).complete(null);
        jobs.submit(ImageReference.parse("d"), PlatformFilter.ALL);
    }

    @Test
    void anIdInUseIsNeverHandedOutTwice() {
        AtomicInteger calls = new AtomicInteger();
        PrefetchJobs jobs = new PrefetchJobs(router, (route, reference, platforms, progress) -> new CompletableFuture<>(),
                Runnable::run, clock, () -> calls.incrementAndGet() <= 2 ? "same" : "other", 5, 10);
        assertEquals("same", jobs.submit(ImageReference.parse("a"), PlatformFilter.ALL).id());
        assertEquals("other", jobs.submit(ImageReference.parse("b"), PlatformFilter.ALL).id());
    }
}
