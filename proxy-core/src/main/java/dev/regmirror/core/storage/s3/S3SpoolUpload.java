package dev.regmirror.core.storage.s3;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;

/**
 * A blob sent to the bucket while it is written to a local spool file: every full part goes up as
 * soon as its bytes are in the file, the rest once the blob is verified, and only then does the
 * object appear under its key, so no object ever holds bytes its key does not name. A blob smaller
 * than one part is sent with one PUT at the end. Requests run one at a time on the storage
 * executor; the writer only tells how far it got, and never waits on the network.
 */
public final class S3SpoolUpload {

    private static final String CONTENT_TYPE = "application/octet-stream";

    private final S3Objects objects;
    private final String key;
    private final Path spool;
    private final long partSize;
    private final Executor executor;
    private final UploadRecords records;
    private CompletableFuture<Void> tail = CompletableFuture.completedFuture(null);
    private S3Upload upload;
    private Optional<Path> record = Optional.empty();
    private long scheduled;
    private boolean ended;

    /**
     * @param spool    the file the blob is being written to, from its first byte; it must stay in
     *                 place until {@link #complete} or {@link #abort} has finished
     * @param partSize the size of every part but the last, at least S3's 5 MiB
     */
    public S3SpoolUpload(S3Objects objects, String key, Path spool, long partSize, Executor executor) {
        this(objects, key, spool, partSize, executor, UploadRecords.NONE);
    }

    /** As the other constructor, noting the multipart upload in {@code records} while it is open. */
    public S3SpoolUpload(S3Objects objects, String key, Path spool, long partSize, Executor executor,
                         UploadRecords records) {
        this.records = Objects.requireNonNull(records, "records");
        this.objects = Objects.requireNonNull(objects, "objects");
        this.key = Objects.requireNonNull(key, "key");
        this.spool = Objects.requireNonNull(spool, "spool");
        this.partSize = partSize;
        this.executor = Objects.requireNonNull(executor, "executor");
        if (partSize < dev.regmirror.core.config.S3Settings.MIN_PART_SIZE) {
            throw new IllegalArgumentException("partSize below S3's 5 MiB");
        }
    }

    /** The key the blob goes to. */
    public String key() {
        return key;
    }

    /** The writer has put {@code total} bytes into the spool file: sends the parts now complete. */
    public synchronized void written(long total) {
        while (!ended && total - scheduled >= partSize) {
            long offset = scheduled;
            scheduled += partSize;
            enqueue(() -> {
                if (upload == null) {
                    S3Upload begun = objects.beginUpload(key, CONTENT_TYPE);
                    Optional<Path> recorded = records.record(begun);
                    synchronized (this) {
                        upload = begun;
                        record = recorded;
                    }
                }
                upload.part(spool, offset, partSize);
            });
        }
    }

    /**
     * The blob is verified to be {@code size} bytes of its digest: sends the rest and makes the
     * object appear. Fails, leaving no object, if any part failed.
     */
    public synchronized CompletableFuture<Void> complete(long size) {
        if (ended) {
            throw new IllegalStateException("upload of " + key + " has ended");
        }
        written(size);
        ended = true;
        long offset = scheduled;
        long rest = size - scheduled;
        enqueue(() -> {
            if (upload == null) {
                objects.write(key, spool, size, CONTENT_TYPE);
                return;
            }
            if (rest > 0) {
                upload.part(spool, offset, rest);
            }
            upload.complete();
            records.forget(recordOf());
        });
        return tail.whenComplete((ignored, failure) -> {
            if (failure != null) {
                abortQuietly();
            }
        });
    }

    /** Gives the blob up: nothing appears under the key, and the parts sent are dropped. */
    public synchronized CompletableFuture<Void> abort() {
        ended = true;
        return tail.handle((ignored, failure) -> null).thenRunAsync(this::abortQuietly, executor);
    }

    private synchronized Optional<Path> recordOf() {
        return record;
    }

    private void enqueue(Runnable request) {
        tail = tail.thenRunAsync(request, executor);
    }

    private void abortQuietly() {
        S3Upload started;
        synchronized (this) {
            started = upload;
        }
        if (started != null) {
            try {
                started.abort();
                records.forget(recordOf());
            } catch (S3StoreException | CompletionException e) {
                // left to the clean-up of leftover uploads
            }
        }
    }
}
