package dev.regmirror.core.mirror;

import dev.regmirror.core.error.InvalidRequestException;
import dev.regmirror.core.error.RegistryErrorCode;
import dev.regmirror.core.manifest.PlatformFilter;
import dev.regmirror.core.reference.ImageReference;
import dev.regmirror.core.reference.Reference;
import dev.regmirror.core.upstream.Route;
import dev.regmirror.core.upstream.UpstreamRouter;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Prefetch jobs: takes requests, runs a few {@link Prefetch} pulls at a time (the rest wait, queued),
 * and remembers the last jobs in memory, the oldest finished ones forgotten first.
 */
public final class PrefetchJobs {

    private static final Logger LOG = LoggerFactory.getLogger(PrefetchJobs.class);

    /** Pulls one image into the cache; {@link Prefetch#pull} is the one in use. */
    @FunctionalInterface
    public interface Puller {
        CompletableFuture<PulledImage> pull(Route route, Reference reference, PlatformFilter platforms,
                                            PrefetchProgress progress);
    }

    private final UpstreamRouter router;
    private final Puller puller;
    private final Executor executor;
    private final Clock clock;
    private final Supplier<String> ids;
    private final int maxRunning;
    private final int maxKept;
    /** Guarded by itself, as are {@link #waiting} and {@link #running}. */
    private final Map<String, PrefetchJob> jobs = new LinkedHashMap<>();
    private final Deque<PrefetchJob> waiting = new ArrayDeque<>();
    private int running;

    /**
     * @param puller     what a job runs: {@link Prefetch#pull}
     * @param executor   where jobs start (they only chain asynchronous work)
     * @param ids        new job ids, unique among the jobs kept
     * @param maxRunning how many jobs run at once
     * @param maxKept    how many jobs are remembered
     */
    public PrefetchJobs(UpstreamRouter router, Puller puller, Executor executor, Clock clock, Supplier<String> ids,
                        int maxRunning, int maxKept) {
        if (maxRunning < 1 || maxKept < 1) {
            throw new IllegalArgumentException("maxRunning and maxKept must be at least 1");
        }
        this.router = router;
        this.puller = puller;
        this.executor = executor;
        this.clock = clock;
        this.ids = ids;
        this.maxRunning = maxRunning;
        this.maxKept = maxKept;
    }

    /**
     * Queues a prefetch of the image, routed as a client's pull of it would be: of its digest when
     * it has one (a tag beside it is not looked up nor recorded), else of its tag, else {@code latest}.
     *
     * @throws dev.regmirror.core.error.InvalidRequestException NAME_INVALID or DIGEST_INVALID for a bad
     *         image, NAME_UNKNOWN for a registry no upstream is configured for, TOOMANYREQUESTS (429)
     *         when as many jobs as are kept already wait queued
     */
    public PrefetchJob.Status submit(ImageReference image, PlatformFilter platforms) {
        Route route = router.route(image);
        PrefetchJob job;
        boolean start;
        synchronized (jobs) {
            if (running >= maxRunning && waiting.size() >= maxKept) {
                throw new InvalidRequestException(RegistryErrorCode.TOOMANYREQUESTS, waiting.size()
                        + " prefetch jobs are already queued; submit more when some have finished");
            }
            String id = ids.get();
            while (jobs.containsKey(id)) {
                id = ids.get();
            }
            job = new PrefetchJob(id, route, image.reference(), platforms, clock.instant());
            jobs.put(id, job);
            forgetOld();
            start = running < maxRunning;
            if (start) {
                running++;
            } else {
                waiting.add(job);
            }
        }
        if (start) {
            launch(job);
        }
        return job.status();
    }

    public Optional<PrefetchJob.Status> get(String id) {
        synchronized (jobs) {
            return Optional.ofNullable(jobs.get(id)).map(PrefetchJob::status);
        }
    }

    /** Every job kept, newest first. */
    public List<PrefetchJob.Status> list() {
        List<PrefetchJob> all;
        synchronized (jobs) {
            all = new ArrayList<>(jobs.values());
        }
        Collections.reverse(all);
        return all.stream().map(PrefetchJob::status).toList();
    }

    /**
     * Runs the job in the slot it was given. An executor that refuses it (shutting down) fails the
     * job and frees the slot, so no job waits queued forever behind one that never ran.
     */
    private void launch(PrefetchJob job) {
        try {
            executor.execute(() -> run(job));
        } catch (RuntimeException e) {
            ended(job, null, e);
        }
    }

    private void run(PrefetchJob job) {
        job.started(clock.instant());
        LOG.info("prefetch {} of {} {} started", job.id(), job.route(), job.reference());
        pull(job).whenComplete((image, failure) -> ended(job, image, failure));
    }

    /** Records how the job ended and hands its slot on, whatever happens while recording. */
    private void ended(PrefetchJob job, PulledImage image, Throwable failure) {
        try {
            if (failure == null) {
                job.succeeded(clock.instant());
                LOG.info("prefetch {} of {} {} done: {} blobs, {} bytes", job.id(), job.route(),
                        job.reference(), job.progress().blobsDone(), job.progress().bytesDone());
            } else {
                PrefetchJob.Failure why = PrefetchJob.Failure.of(failure);
                job.failed(clock.instant(), why);
                LOG.warn("prefetch {} of {} {} failed: {} {}", job.id(), job.route(), job.reference(),
                        why.code(), why.message());
            }
        } finally {
            next();
        }
    }

    /** Starts the next waiting job, if any, in the slot a finished one left. */
    private void next() {
        PrefetchJob job;
        synchronized (jobs) {
            job = waiting.poll();
            if (job == null) {
                running--;
                return;
            }
        }
        launch(job);
    }

    /** Forgets the oldest finished jobs beyond {@code maxKept}; holds the lock. */
    private void forgetOld() {
        Iterator<PrefetchJob> oldestFirst = jobs.values().iterator();
        while (jobs.size() > maxKept && oldestFirst.hasNext()) {
            if (oldestFirst.next().finished()) {
                oldestFirst.remove();
            }
        }
    }

    private CompletableFuture<PulledImage> pull(PrefetchJob job) {
        try {
            return puller.pull(job.route(), job.reference(), job.platforms(), job.progress());
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }
}
