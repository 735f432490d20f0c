package dev.regmirror.core.verify;

import java.nio.channels.ClosedByInterruptException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Verify jobs: runs one {@link CacheVerify} at a time on its own executor (a second request while
 * one runs gets the running one, not another), and remembers the last few in memory.
 */
public final class VerifyJobs {

    private static final Logger LOG = LoggerFactory.getLogger(VerifyJobs.class);

    /** A submitted verify: the job, and whether this request started it ({@code false}: it was already running). */
    public record Submitted(VerifyJob.Status job, boolean started) {
    }

    private final CacheVerify verify;
    private final long bytesPerSecond;
    private final Executor executor;
    private final Clock clock;
    private final Supplier<String> ids;
    private final int maxKept;
    /** Guarded by itself, as is {@link #running}. */
    private final Map<String, VerifyJob> jobs = new LinkedHashMap<>();
    private VerifyJob running;

    /**
     * @param bytesPerSecond the rate {@code verify} hashes at, shown in each job
     * @param executor       where a verify runs: a thread of its own, which it holds for as long as it reads
     * @param ids            new job ids
     * @param maxKept        how many jobs are remembered
     */
    public VerifyJobs(CacheVerify verify, long bytesPerSecond, Executor executor, Clock clock, Supplier<String> ids,
                      int maxKept) {
        if (maxKept < 1) {
            throw new IllegalArgumentException("maxKept must be at least 1");
        }
        this.verify = verify;
        this.bytesPerSecond = bytesPerSecond;
        this.executor = executor;
        this.clock = clock;
        this.ids = ids;
        this.maxKept = maxKept;
    }

    /** Starts a verify, or answers the one running. Only takes a lock and hands the work on: nothing blocks. */
    public Submitted submit() {
        VerifyJob job;
        synchronized (jobs) {
            if (running != null) {
                return new Submitted(running.status(), false);
            }
            String id = ids.get();
            while (jobs.containsKey(id)) {
                id = ids.get();
            }
            job = new VerifyJob(id, clock.instant(), bytesPerSecond);
            jobs.put(id, job);
            running = job;
            forgetOld();
        }
        try {
            executor.execute(() -> run(job));
        } catch (RuntimeException e) {
            ended(job, null, e);
        }
        return new Submitted(job.status(), true);
    }

    public Optional<VerifyJob.Status> get(String id) {
        synchronized (jobs) {
            return Optional.ofNullable(jobs.get(id)).map(VerifyJob::status);
        }
    }

    /** Every job kept, newest first. */
    public List<VerifyJob.Status> list() {
        List<VerifyJob> all;
        synchronized (jobs) {
            all = new ArrayList<>(jobs.values());
        }
        Collections.reverse(all);
        return all.stream().map(VerifyJob::status).toList();
    }

    private void run(VerifyJob job) {
        LOG.info("verify {} started", job.id());
        try {
            ended(job, verify.run(job.progress()), null);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            ended(job, null, e);
        } catch (Exception | Error e) {
            ended(job, null, e);
        }
    }

    private void ended(VerifyJob job, VerifyReport report, Throwable failure) {
        try {
            if (failure == null) {
                job.succeeded(clock.instant(), report);
                VerifyJob.Status status = job.status();
                LOG.info("verify {} done: {} blobs, {} bytes hashed, {} corrupt (quarantined), {} missing references"
                        + " ({} of hosted manifests), {} ingest leftovers", job.id(), status.blobsChecked(),
                        status.bytesHashed(), report.corrupt().size(), report.missingTotal(),
                        report.hostedMissingTotal(), report.ingestLeftovers().size());
            } else {
                String why = failure instanceof InterruptedException
                        || failure instanceof ClosedByInterruptException
                        ? "interrupted: the server is stopping" : failure.toString();
                job.failed(clock.instant(), why);
                LOG.warn("verify {} failed: {}", job.id(), why);
            }
        } finally {
            synchronized (jobs) {
                if (running == job) {
                    running = null;
                }
            }
        }
    }

    /** Forgets the oldest finished jobs beyond {@code maxKept}; holds the lock. */
    private void forgetOld() {
        Iterator<VerifyJob> oldestFirst = jobs.values().iterator();
        while (jobs.size() > maxKept && oldestFirst.hasNext()) {
            if (oldestFirst.next().finished()) {
                oldestFirst.remove();
            }
        }
    }
}
