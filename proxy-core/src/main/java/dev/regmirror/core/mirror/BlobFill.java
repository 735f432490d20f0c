package dev.regmirror.core.mirror;

import dev.regmirror.core.blob.BlobIngest;
import dev.regmirror.core.blob.BlobStore;
import dev.regmirror.core.blob.DigestMismatchException;
import dev.regmirror.core.blob.StoredBlob;
import dev.regmirror.core.client.BlobBody;
import dev.regmirror.core.client.RegistryClient;
import dev.regmirror.core.error.RegistryErrorCode;
import dev.regmirror.core.error.UpstreamErrorException;
import dev.regmirror.core.error.UpstreamUnavailableException;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.upstream.Route;
import io.netty.buffer.ByteBuf;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.Flow;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One download of a blob from the upstream into the cache, which any number of readers follow as
 * it grows. Bytes are written to an ingest file and hashed as they arrive; the last byte is held
 * back from readers until size and digest are verified, so no reader ever receives a complete
 * body that failed verification. The sync and the move under the digest (the commit) follow
 * without holding readers back: the disk may take seconds to write a large blob, which the
 * readers, given bytes already known good, need not wait for. A fill that fails before it is
 * verified commits nothing and every reader's response ends in error; one whose commit fails
 * after it was verified has served its readers and only leaves the blob uncached. In a cluster a
 * fill may instead relay the blob from the node that owns it: the same spool, verification and
 * readers, but the commit stores nothing here (the owner stores it) and keeps the spool a while.
 */
public final class BlobFill {

    private static final Logger LOG = LoggerFactory.getLogger(BlobFill.class);

    private final Route route;
    private final Digest digest;
    private final CompletableFuture<Long> started = new CompletableFuture<>();
    private final CompletableFuture<StoredBlob> done = new CompletableFuture<>();
    private final List<Runnable> waiters = new ArrayList<>();
    private volatile BlobIngest ingest;
    private volatile long written;
    /** The blob's size once its bytes are verified (all readable); -1 before. */
    private volatile long verified = -1;
    private Path readablePath;
    private volatile boolean foundStored;
    /** Whether the bytes are relayed from the blob's owner, so that the commit stores nothing here. */
    private volatile boolean relayed;
    private Executor diskExecutor;
    private ScheduledExecutorService scheduler;
    private Duration fillTimeout;

    BlobFill(Route route, Digest digest) {
        this.route = route;
        this.digest = digest;
    }

    public Digest digest() {
        return digest;
    }

    /**
     * Whether the fill found the blob already stored (another fill committed it meanwhile) and so
     * downloaded nothing: its readers read the stored blob, not the fill.
     */
    public boolean foundStored() {
        return foundStored;
    }

    /** Completes with the blob's size (-1 if the upstream did not declare it) once the upstream answered 200. */
    public CompletableFuture<Long> started() {
        return started;
    }

    /** Completes when the blob is verified and committed; fails if the fill failed. */
    public CompletableFuture<StoredBlob> done() {
        return done;
    }

    /**
     * Where a fill's bytes come from: a body, and whether it is relayed from the blob's owner in a
     * cluster (spooled here for this node's readers, never stored) or fetched to be stored.
     */
    record Feed(BlobBody body, boolean relayed) {

        Feed {
            java.util.Objects.requireNonNull(body, "body");
        }
    }

    /**
     * What a reader may do at one moment: send the first {@code readable} bytes, and, once
     * {@code ended}, nothing more ({@code failed}: end the response in error).
     */
    public record Progress(long readable, boolean ended, boolean failed) {
    }

    /**
     * One consistent view of the fill for a reader deciding whether to send, end or wait. The end
     * is read before the readable count: a fill that commits between the two reads is seen as
     * still running with all its bytes readable, never as ended short of its last bytes (which
     * would end a response early and leave its client waiting for the rest).
     */
    public Progress progress() {
        long verifiedSize = verified;
        if (verifiedSize >= 0) {
            return new Progress(verifiedSize, true, false);
        }
        boolean ended = done.isDone();
        boolean failed = done.isCompletedExceptionally();
        return new Progress(readable(), ended, failed);
    }

    /**
     * The blob's size: the one the upstream {@code declared}, or, if it declared none (-1), the
     * verified size once the fill has ended without failing (a request arriving between
     * verification and commit can then be answered a part, as for a cached blob); else -1.
     */
    public long size(long declared) {
        if (declared >= 0) {
            return declared;
        }
        Progress progress = progress();
        return progress.ended() && !progress.failed() ? progress.readable() : -1;
    }

    /** How many bytes from the start a reader may send now. */
    public long readable() {
        long verifiedSize = verified;
        if (verifiedSize >= 0) {
            return verifiedSize;
        }
        if (done.isDone() && !done.isCompletedExceptionally()) {
            return done.join().size();
        }
        return Math.max(0, written - 1);
    }

    /**
     * Runs the callback once more than {@code position} bytes are readable or the fill has ended,
     * at once if that is already so. Callbacks run on the fill's thread: they must only hand off.
     */
    public void whenReadableBeyond(long position, Runnable callback) {
        synchronized (waiters) {
            if (readable() <= position && !done.isDone() && verified < 0) {
                waiters.add(callback);
                return;
            }
        }
        callback.run();
    }

    /** Opens the fill's content for positional reads: the ingest file, or the blob once committed. */
    public FileChannel openReader() throws IOException {
        synchronized (this) {
            return FileChannel.open(readablePath, StandardOpenOption.READ);
        }
    }

    /**
     * Starts the download; called once by the owner of this fill, on a disk thread. A blob that
     * another fill committed in the meantime is taken from the store instead of fetched again.
     */
    void start(RegistryClient client, BlobStore store, Executor diskExecutor, ScheduledExecutorService scheduler,
               Duration fillTimeout) {
        start(() -> client.getBlob(route.name(), digest).thenApply(body -> new Feed(body, false)), store,
                diskExecutor, scheduler, fillTimeout);
    }

    /** As {@link #start(RegistryClient, BlobStore, Executor, ScheduledExecutorService, Duration)}, from {@code feed}. */
    void start(java.util.function.Supplier<CompletableFuture<Feed>> feed, BlobStore store, Executor diskExecutor,
               ScheduledExecutorService scheduler, Duration fillTimeout) {
        this.scheduler = scheduler;
        this.fillTimeout = fillTimeout;
        try {
            Optional<StoredBlob> committed = store.find(digest);
            if (committed.isPresent()) {
                foundStored = true;
                started.complete(committed.get().size());
                done.complete(committed.get());
                return;
            }
        } catch (IOException e) {
            fail(StorageFailure.read(e));
            return;
        } catch (RuntimeException e) {
            fail(e);
            return;
        }
        this.diskExecutor = diskExecutor;
        try {
            feed.get().whenComplete((fed, failure) -> {
                if (failure != null) {
                    fail(Futures.unwrap(failure));
                    return;
                }
                try {
                    begin(fed, store);
                } catch (RuntimeException | Error e) {
                    fail(e);
                }
            });
        } catch (RuntimeException e) {
            fail(e);
        }
    }

    /**
     * Opens the ingest, arms the fill timeout, and only then says the fill started and subscribes
     * to the body: whatever fails before that fails the fill, never leaving it started with
     * nothing to end it.
     */
    private void begin(Feed feed, BlobStore store) {
        BlobBody body = feed.body();
        relayed = feed.relayed();
        try {
            BlobIngest newIngest = relayed ? store.beginRelay(digest, body.contentLength())
                    : store.begin(digest, body.contentLength());
            synchronized (this) {
                ingest = newIngest;
                readablePath = newIngest.path();
            }
        } catch (IOException e) {
            fail(StorageFailure.write(e, body));
            return;
        }
        IngestSubscriber subscriber = new IngestSubscriber();
        ScheduledFuture<?> deadline = scheduler.schedule(subscriber::timedOut, fillTimeout.toMillis(),
                TimeUnit.MILLISECONDS);
        done.whenComplete((blob, ended) -> deadline.cancel(false));
        started.complete(body.contentLength());
        body.publisher().subscribe(subscriber);
    }

    private void progressed() {
        List<Runnable> ready;
        synchronized (waiters) {
            ready = new ArrayList<>(waiters);
            waiters.clear();
        }
        for (Runnable waiter : ready) {
            try {
                waiter.run();
            } catch (RuntimeException e) {
                // One reader gone wrong (its event loop shut down) must not keep the others waiting.
                LOG.debug("waking a reader of blob {}: {}", digest.shortForm(), e.toString());
            }
        }
    }

    /**
     * Ends the fill in failure. Before the upstream answered 200 the failure is the requesters'
     * error response, logged where that is sent; after, readers only see a cut-off body, so it is
     * logged here, once.
     */
    private void fail(Throwable cause) {
        BlobIngest current = ingest;
        if (current != null) {
            current.abort();
        }
        boolean streaming = started.isDone() && !started.isCompletedExceptionally();
        started.completeExceptionally(cause);
        done.completeExceptionally(cause);
        if (verified >= 0) {
            LOG.warn("blob {} of {} from {} served to its readers but not cached: {}", digest.shortForm(),
                    route.name(), route.registry(), cause.getMessage());
        } else if (streaming) {
            LOG.warn("blob {} of {} from {} not cached, readers cut off after {} bytes: {}", digest.shortForm(),
                    route.name(), route.registry(), written, cause.getMessage());
        } else {
            LOG.debug("blob {} of {} from {} not started: {}", digest.shortForm(), route.name(), route.registry(),
                    cause.getMessage());
        }
        progressed();
    }

    /**
     * Writes the upstream body into the ingest and hashes it, keeping at most {@link #WINDOW}
     * chunks asked for and not yet both written and hashed: enough that the upstream connection
     * does not idle while a chunk is written, few enough that memory per fill stays bounded (a
     * chunk is what the connection read while the previous ones were written, a few hundred KiB at
     * most). Writing and hashing are two chains of disk-executor tasks that run side by side, each
     * in chunk order: SHA-256 costs more than the write into the page cache, and one thread doing
     * both in turn was what bounded a miss (docs/performance.md, "Where a miss's time goes"). A
     * reader may send what is written before it is hashed, for the last byte waits for
     * verification. Each chunk is the connection's pooled buffer, released once written and
     * hashed, or once it is clear it never will be (the fill ended, the disk executor refused the
     * work).
     */
    private final class IngestSubscriber implements Flow.Subscriber<ByteBuf> {

        private static final int WINDOW = 4;

        private static final long FLUSH_SPAN = 16L * 1024 * 1024;

        private volatile Flow.Subscription subscription;
        private volatile boolean flushing;
        private long flushedUpTo;

        @Override
        public void onSubscribe(Flow.Subscription subscription) {
            this.subscription = subscription;
            subscription.request(WINDOW);
        }

        /**
         * Disk work of this subscription, in signal order: a publisher may signal completion
         * without demand, so the commit must queue behind the last write, never run beside it.
         * Guarded by the lock because a signal can arrive on the disk thread (from within
         * {@code request}) before the thread that queued the previous write has recorded it.
         */
        private CompletableFuture<Void> tail = CompletableFuture.completedFuture(null);

        /** Hashing of this subscription, in chunk order, beside the writes; the commit waits for both. */
        private CompletableFuture<Void> hashTail = CompletableFuture.completedFuture(null);

        private void inOrder(Runnable work) {
            inOrder(work, () -> { });
        }

        /** As {@link #inOrder(Runnable)}; {@code ifSkipped} runs instead if the disk executor refused the work. */
        private synchronized void inOrder(Runnable work, Runnable ifSkipped) {
            tail = after(tail, work, ifSkipped);
        }

        /** As {@link #inOrder(Runnable, Runnable)}, on the chain of hashes. */
        private synchronized void hashInOrder(Runnable work, Runnable ifSkipped) {
            hashTail = after(hashTail, work, ifSkipped);
        }

        /** Queues {@code work} behind every write and every hash queued so far. */
        private synchronized void afterAll(Runnable work) {
            tail = after(CompletableFuture.allOf(tail, hashTail), work, () -> { });
        }

        private CompletableFuture<Void> after(CompletableFuture<Void> previous, Runnable work, Runnable ifSkipped) {
            return previous.thenRunAsync(() -> {
                try {
                    work.run();
                } catch (RuntimeException | Error e) {
                    failUnlessDone(e);
                }
            }, diskExecutor).exceptionally(rejected -> {
                ifSkipped.run();
                failUnlessDone(Futures.unwrap(rejected));
                return null;
            });
        }

        /**
         * Ends the fill after a step failed unexpectedly (or the disk executor refused it), so
         * that its readers and the next requester of the digest see an error, never a fill that
         * hangs because the steps queued behind the failed one were skipped.
         */
        private void failUnlessDone(Throwable cause) {
            if (!done.isDone()) {
                Flow.Subscription current = subscription;
                if (current != null) {
                    current.cancel();
                }
                fail(cause);
            }
        }

        /** The fill ran past fill-timeout: the upstream trickles too slowly to be worth keeping. */
        void timedOut() {
            Flow.Subscription current = subscription;
            if (current != null) {
                current.cancel();
            }
            inOrder(() -> {
                if (!done.isDone()) {
                    fail(new UpstreamUnavailableException(route.registry(), "pull blob " + digest.shortForm() + " of "
                            + route.name() + " from " + route.registry() + ": not finished within the fill timeout of "
                            + fillTimeout.toSeconds() + "s", null));
                }
            });
        }

        /**
         * Queues the chunk's write and its hash, each on views of its own (a buffer's position is
         * not shared between threads), and asks for one more chunk once both are done.
         */
        @Override
        public void onNext(ByteBuf chunk) {
            ByteBuffer[] toWrite = chunk.nioBuffers();
            ByteBuffer[] toHash = new ByteBuffer[toWrite.length];
            for (int i = 0; i < toWrite.length; i++) {
                toHash[i] = toWrite[i].duplicate();
            }
            chunk.retain();
            AtomicInteger unfinished = new AtomicInteger(2);
            Runnable finished = () -> {
                if (unfinished.decrementAndGet() == 0 && !done.isDone()) {
                    subscription.request(1);
                }
            };
            inOrder(() -> {
                try {
                    if (write(toWrite)) {
                        finished.run();
                    }
                } finally {
                    chunk.release();
                }
            }, chunk::release);
            hashInOrder(() -> {
                try {
                    if (!done.isDone()) {
                        for (ByteBuffer buffer : toHash) {
                            ingest.hash(buffer);
                        }
                        finished.run();
                    }
                } finally {
                    chunk.release();
                }
            }, chunk::release);
        }

        /** Writes on a disk thread; false if the fill has ended (before or because of this write). */
        private boolean write(ByteBuffer[] buffers) {
            if (done.isDone()) {
                return false;
            }
            try {
                for (ByteBuffer buffer : buffers) {
                    ingest.append(buffer);
                }
            } catch (DigestMismatchException e) {
                subscription.cancel();
                fail(new UpstreamErrorException(RegistryErrorCode.UPSTREAM_ERROR, e.getMessage(), null,
                        route.registry(), 200, Map.of()));
                return false;
            } catch (IOException e) {
                subscription.cancel();
                fail(StorageFailure.write(e, null));
                return false;
            } catch (RuntimeException e) {
                subscription.cancel();
                fail(e);
                return false;
            }
            written = ingest.written();
            flushAhead();
            progressed();
            return true;
        }

        /**
         * Every {@link #FLUSH_SPAN} bytes, syncs what is written so far beside the writes (one
         * sync at a time), so the disk works while the download goes on and the commit's sync
         * has only the tail left.
         */
        private void flushAhead() {
            if (flushing || written - flushedUpTo < FLUSH_SPAN) {
                return;
            }
            flushing = true;
            flushedUpTo = written;
            BlobIngest current = ingest;
            diskExecutor.execute(() -> {
                try {
                    current.flush();
                } catch (IOException e) {
                    LOG.debug("syncing ingest of {} ahead of commit: {}", digest.shortForm(), e.toString());
                } finally {
                    flushing = false;
                }
            });
        }

        @Override
        public void onError(Throwable throwable) {
            inOrder(() -> {
                if (!done.isDone()) {
                    fail(Futures.unwrap(throwable));
                }
            });
        }

        @Override
        public void onComplete() {
            afterAll(this::commit);
        }

        /**
         * Verifies the blob and lets its readers have the last byte, then syncs and moves it under
         * its digest. The sync runs outside the lock that {@link #openReader} takes, so a reader
         * arriving meanwhile opens the ingest file at once; only the rename is under it.
         */
        private void commit() {
            if (done.isDone()) {
                return;
            }
            try {
                ingest.verify();
            } catch (DigestMismatchException e) {
                fail(new UpstreamErrorException(RegistryErrorCode.UPSTREAM_ERROR, e.getMessage(), null,
                        route.registry(), 200, Map.of()));
                return;
            } catch (IOException e) {
                fail(StorageFailure.write(e, null));
                return;
            } catch (RuntimeException e) {
                fail(e);
                return;
            }
            verified = ingest.written();
            progressed();
            try {
                ingest.flush();
                StoredBlob blob;
                synchronized (BlobFill.this) {
                    blob = ingest.commit();
                    readablePath = ingest.readablePath();
                }
                done.complete(blob);
                LOG.debug("{} blob {} of {} from {} ({} bytes)", relayed ? "relayed" : "cached", digest.shortForm(),
                        route.name(), route.registry(), blob.size());
            } catch (IOException e) {
                fail(StorageFailure.write(e, null));
                return;
            } catch (RuntimeException e) {
                fail(e);
                return;
            }
            progressed();
        }
    }
}
