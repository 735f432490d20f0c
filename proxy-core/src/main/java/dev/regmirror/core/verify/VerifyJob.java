package dev.regmirror.core.verify;

import java.time.Instant;
import java.util.Optional;

/** One verify as {@link VerifyJobs} runs it: its state, its progress, and once it succeeded its report. */
public final class VerifyJob {

    /** Where a job is; a verify starts at once, so it is never queued. */
    public enum State { running, succeeded, failed }

    /** A job as it is at one moment; {@code report} only once it succeeded, {@code failure} once it failed. */
    public record Status(String id, State state, int blobsChecked, int blobsTotal, long bytesHashed, long bytesTotal,
                         int corrupt, int manifestsChecked, int manifestsTotal, int missingReferences,
                         long bytesPerSecond, Instant created, Optional<Instant> finished,
                         Optional<VerifyReport> report, Optional<String> failure) {
    }

    private final String id;
    private final Instant created;
    private final long bytesPerSecond;
    private final VerifyProgress progress = new VerifyProgress();
    private volatile State state = State.running;
    private volatile Instant finished;
    private volatile VerifyReport report;
    private volatile String failure;

    VerifyJob(String id, Instant created, long bytesPerSecond) {
        this.id = id;
        this.created = created;
        this.bytesPerSecond = bytesPerSecond;
    }

    public String id() {
        return id;
    }

    VerifyProgress progress() {
        return progress;
    }

    boolean finished() {
        return state != State.running;
    }

    void succeeded(Instant at, VerifyReport found) {
        report = found;
        finished = at;
        state = State.succeeded;
    }

    void failed(Instant at, String why) {
        failure = why;
        finished = at;
        state = State.failed;
    }

    /** The job now; the state is read first, so a finished job's figures are final. */
    public Status status() {
        State now = state;
        return new Status(id, now, progress.blobsChecked(), progress.blobsTotal(), progress.bytesHashed(),
                progress.bytesTotal(), progress.corrupt(), progress.manifestsChecked(), progress.manifestsTotal(),
                progress.missingReferences(), bytesPerSecond, created,
                now == State.running ? Optional.empty() : Optional.ofNullable(finished),
                now == State.succeeded ? Optional.ofNullable(report) : Optional.empty(),
                now == State.failed ? Optional.ofNullable(failure) : Optional.empty());
    }
}
