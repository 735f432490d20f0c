package dev.regmirror.core.mirror;

import io.netty.buffer.Unpooled;
import io.netty.buffer.ByteBuf;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.regmirror.core.blob.BlobStore;
import dev.regmirror.core.blob.FileBlobStore;
import dev.regmirror.core.client.BlobBody;
import dev.regmirror.core.client.LimitedRegistryClient;
import dev.regmirror.core.client.RegistryClient;
import dev.regmirror.core.error.UpstreamUnavailableException;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.reference.RepositoryName;
import dev.regmirror.core.testing.ManualScheduler;
import dev.regmirror.core.testing.UnscriptedRegistryClient;
import dev.regmirror.core.upstream.UpstreamLimits;
import dev.regmirror.core.upstream.Route;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Flow;
import java.util.concurrent.SubmissionPublisher;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A fill as its readers see it, with an upstream body the test hands out chunk by chunk. */
class BlobFillTest {

    @TempDir
    Path dir;

    private static final java.util.concurrent.ScheduledExecutorService SCHEDULER =
            java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
                Thread thread = new Thread(r, "fill-timeouts");
                thread.setDaemon(true);
                return thread;
            });

    private final Route route = new Route("docker.io", new RepositoryName("library/alpine"));

    /** An upstream whose blob body is whatever the test publishes, and which counts GETs. */
    private static class ScriptedUpstream extends UnscriptedRegistryClient {
        final SubmissionPublisher<ByteBuf> body = new SubmissionPublisher<>(Runnable::run, 4);
        final AtomicInteger gets = new AtomicInteger();
        final long length;

        ScriptedUpstream(long length) {
            this.length = length;
        }

        @Override
        public CompletableFuture<BlobBody> getBlob(RepositoryName name, Digest digest) {
            gets.incrementAndGet();
            return CompletableFuture.completedFuture(new BlobBody() {
                @Override
                public long contentLength() {
                    return length;
                }

                @Override
                public Flow.Publisher<ByteBuf> publisher() {
                    return body;
                }
            });
        }
    }

    private static byte[] random(int size) {
        byte[] bytes = new byte[size];
        new Random(42).nextBytes(bytes);
        return bytes;
    }

    @Test
    void readersGetAllButTheLastByteUntilTheBlobIsVerified() throws Exception {
        byte[] bytes = random(10_000);
        Digest digest = Digest.sha256Of(bytes);
        ScriptedUpstream upstream = new ScriptedUpstream(bytes.length);
        FileBlobStore store = FileBlobStore.open(dir);
        BlobFill fill = new BlobFill(route, digest);
        fill.start(upstream, store, Runnable::run, SCHEDULER, Duration.ofMinutes(5));
        assertEquals(bytes.length, fill.started().get(5, TimeUnit.SECONDS));

        upstream.body.submit(Unpooled.wrappedBuffer(bytes, 0, 6000));
        assertEquals(5999, fill.readable());
        try (FileChannel reader = fill.openReader()) {
            ByteBuffer first = ByteBuffer.allocate(5999);
            reader.read(first, 0);
            assertArrayEquals(java.util.Arrays.copyOf(bytes, 5999), first.array());
        }

        upstream.body.submit(Unpooled.wrappedBuffer(bytes, 6000, 4000));
        assertEquals(9999, fill.readable(), "the last byte waits for verification");
        CompletableFuture<Void> woken = new CompletableFuture<>();
        fill.whenReadableBeyond(9999, () -> woken.complete(null));
        assertTrue(!woken.isDone());

        upstream.body.close();
        fill.done().get(5, TimeUnit.SECONDS);
        woken.get(5, TimeUnit.SECONDS);
        assertEquals(bytes.length, fill.readable());
        assertArrayEquals(bytes, store.readAll(digest).orElseThrow());
    }

    /**
     * Readers get the last byte once the bytes are verified, not once the disk has synced them:
     * a commit that fails after verification (here the rename, whose directory cannot be made)
     * leaves the blob uncached but lets every reader finish its response with bytes known good.
     */
    @Test
    void aVerifiedFillWhoseCommitFailsStillLetsItsReadersFinish() throws Exception {
        byte[] bytes = random(10_000);
        Digest digest = Digest.sha256Of(bytes);
        ScriptedUpstream upstream = new ScriptedUpstream(bytes.length);
        FileBlobStore store = FileBlobStore.open(dir);
        BlobFill fill = new BlobFill(route, digest);
        fill.start(upstream, store, Runnable::run, SCHEDULER, Duration.ofMinutes(5));
        fill.started().get(5, TimeUnit.SECONDS);
        java.nio.file.Files.createDirectories(store.pathOf(digest).getParent().getParent());
        java.nio.file.Files.writeString(store.pathOf(digest).getParent(), "not a directory");
        FileChannel reader = fill.openReader();
        CompletableFuture<Void> woken = new CompletableFuture<>();
        fill.whenReadableBeyond(bytes.length - 1, () -> woken.complete(null));

        upstream.body.submit(Unpooled.wrappedBuffer(bytes));
        upstream.body.close();

        woken.get(5, TimeUnit.SECONDS);
        assertTrue(fill.done().isCompletedExceptionally(), "the commit failed");
        assertEquals(new BlobFill.Progress(bytes.length, true, false), fill.progress());
        try (reader) {
            ByteBuffer all = ByteBuffer.allocate(bytes.length);
            reader.read(all, 0);
            assertArrayEquals(bytes, all.array(), "a reader that opened the ingest file still reads it whole");
        }
        assertTrue(!java.nio.file.Files.exists(store.pathOf(digest)), "nothing is cached");
    }

    @Test
    void aFillWithTheWrongBytesFailsItsReadersAndCommitsNothing() throws Exception {
        byte[] bytes = random(4096);
        Digest claimed = Digest.sha256Of(new byte[] {1, 2, 3});
        ScriptedUpstream upstream = new ScriptedUpstream(bytes.length);
        FileBlobStore store = FileBlobStore.open(dir);
        BlobFill fill = new BlobFill(route, claimed);
        fill.start(upstream, store, Runnable::run, SCHEDULER, Duration.ofMinutes(5));
        fill.started().get(5, TimeUnit.SECONDS);
        CompletableFuture<Void> woken = new CompletableFuture<>();
        fill.whenReadableBeyond(bytes.length - 1, () -> woken.complete(null));

        upstream.body.submit(Unpooled.wrappedBuffer(bytes));
        upstream.body.close();

        woken.get(5, TimeUnit.SECONDS);
        assertTrue(fill.done().isCompletedExceptionally());
        assertTrue(fill.readable() < bytes.length, "a reader never gets the whole body of a failed fill");
        assertTrue(store.find(claimed).isEmpty());
    }

    /**
     * Writes and hashes run side by side on a pool of disk threads, readers following the
     * writes: one flipped byte in the middle of many chunks still fails the fill before any reader
     * is given the last byte, and nothing is committed; the right bytes, chunked the same way, are.
     */
    @Test
    void writingAndHashingOnManyThreadsStillCatchOneFlippedByte() throws Exception {
        byte[] bytes = random(3_000_000);
        Digest digest = Digest.sha256Of(bytes);
        java.util.concurrent.ExecutorService disk = java.util.concurrent.Executors.newFixedThreadPool(4);
        try {
            FileBlobStore store = FileBlobStore.open(dir);
            for (boolean flip : new boolean[] {true, false}) {
                byte[] sent = bytes.clone();
                if (flip) {
                    sent[1_500_000] ^= 1;
                }
                ScriptedUpstream upstream = new ScriptedUpstream(bytes.length);
                BlobFill fill = new BlobFill(route, digest);
                fill.start(upstream, store, disk, SCHEDULER, Duration.ofMinutes(5));
                fill.started().get(5, TimeUnit.SECONDS);
                CompletableFuture<Void> woken = new CompletableFuture<>();
                fill.whenReadableBeyond(bytes.length - 1, () -> woken.complete(null));
                for (int offset = 0; offset < sent.length; offset += 10_000) {
                    upstream.body.submit(Unpooled.wrappedBuffer(sent, offset, Math.min(10_000, sent.length - offset)));
                }
                upstream.body.close();
                woken.get(10, TimeUnit.SECONDS);
                fill.done().handle((ok, e) -> null).get(10, TimeUnit.SECONDS);
                if (flip) {
                    assertTrue(fill.done().isCompletedExceptionally(), "the flipped byte is caught");
                    assertTrue(fill.readable() < bytes.length, "no reader is given the whole body");
                    assertTrue(store.find(digest).isEmpty(), "nothing is committed");
                } else {
                    assertEquals(bytes.length, fill.done().get().size());
                    assertArrayEquals(bytes, store.readAll(digest).orElseThrow());
                }
            }
        } finally {
            disk.shutdownNow();
        }
    }

    @Test
    void anUpstreamBreakingOffFailsTheFill() throws Exception {
        byte[] bytes = random(4096);
        Digest digest = Digest.sha256Of(bytes);
        ScriptedUpstream upstream = new ScriptedUpstream(bytes.length);
        FileBlobStore store = FileBlobStore.open(dir);
        BlobFill fill = new BlobFill(route, digest);
        fill.start(upstream, store, Runnable::run, SCHEDULER, Duration.ofMinutes(5));
        fill.started().get(5, TimeUnit.SECONDS);
        upstream.body.submit(Unpooled.wrappedBuffer(bytes, 0, 100));
        upstream.body.closeExceptionally(new UpstreamUnavailableException("docker.io", "connection reset", null));

        Throwable failure = fill.done().handle((ok, e) -> e).get(5, TimeUnit.SECONDS);
        assertTrue(Futures.unwrap(failure) instanceof UpstreamUnavailableException, String.valueOf(failure));
        assertTrue(store.find(digest).isEmpty());
    }

    @Test
    void aPublisherThatCompletesWithoutDemandStillCommitsEveryByteInOrder() throws Exception {
        byte[] bytes = random(2_000_000);
        Digest digest = Digest.sha256Of(bytes);
        FileBlobStore store = FileBlobStore.open(dir);
        java.util.concurrent.ExecutorService disk = java.util.concurrent.Executors.newFixedThreadPool(4);
        try {
            RegistryClient eager = new ScriptedUpstream(bytes.length) {
                @Override
                public CompletableFuture<BlobBody> getBlob(RepositoryName name, Digest d) {
                    return CompletableFuture.completedFuture(new BlobBody() {
                        @Override
                        public long contentLength() {
                            return bytes.length;
                        }

                        @Override
                        public Flow.Publisher<ByteBuf> publisher() {
                            return subscriber -> {
                                subscriber.onSubscribe(new Flow.Subscription() {
                                    @Override
                                    public void request(long n) {
                                    }

                                    @Override
                                    public void cancel() {
                                    }
                                });
                                // Ignores demand: every chunk and the completion at once.
                                for (int offset = 0; offset < bytes.length; offset += 1000) {
                                    subscriber.onNext(Unpooled.wrappedBuffer(bytes, offset, 1000));
                                }
                                subscriber.onComplete();
                            };
                        }
                    });
                }
            };
            BlobFill fill = new BlobFill(route, digest);
            fill.start(eager, store, disk, SCHEDULER, Duration.ofMinutes(5));
            assertEquals(bytes.length, fill.done().get(10, TimeUnit.SECONDS).size());
            assertArrayEquals(bytes, store.readAll(digest).orElseThrow());
        } finally {
            disk.shutdownNow();
        }
    }

    @Test
    void aFillThatRunsPastTheFillTimeoutIsGivenUp() throws Exception {
        byte[] bytes = random(4096);
        Digest digest = Digest.sha256Of(bytes);
        ScriptedUpstream upstream = new ScriptedUpstream(bytes.length);
        FileBlobStore store = FileBlobStore.open(dir);
        BlobFill fill = new BlobFill(route, digest);
        fill.start(upstream, store, Runnable::run, SCHEDULER, Duration.ofMillis(1));
        upstream.body.submit(Unpooled.wrappedBuffer(bytes, 0, 100));
        // The upstream never sends the rest: the fill must end on its own, in failure.
        Throwable failure = fill.done().handle((ok, e) -> e).get(5, TimeUnit.SECONDS);
        assertTrue(Futures.unwrap(failure).getMessage().contains("fill timeout"), String.valueOf(failure));
        assertTrue(store.find(digest).isEmpty());
    }

    /** The fill timeout cancels the body, which lets the fill's turn at a limited upstream go to the next request. */
    @Test
    void aFillGivenUpAtItsFillTimeoutLetsItsTurnAtALimitedUpstreamGo() throws Exception {
        byte[] bytes = random(4096);
        ManualScheduler clock = new ManualScheduler();
        ScriptedUpstream upstream = new ScriptedUpstream(bytes.length);
        LimitedRegistryClient limited = new LimitedRegistryClient(upstream, new UpstreamLimits(
                "regmirror.upstreams.dockerhub", 1, 0, Duration.ofMinutes(10)), Runnable::run, clock, clock,
                new SimpleMeterRegistry());
        BlobFill fill = new BlobFill(route, Digest.sha256Of(bytes));
        fill.start(limited, FileBlobStore.open(dir), Runnable::run, clock, Duration.ofMinutes(5));
        fill.started().get(5, TimeUnit.SECONDS);
        upstream.body.submit(Unpooled.wrappedBuffer(bytes, 0, 100));
        CompletableFuture<BlobBody> next = limited.getBlob(route.name(), Digest.sha256Of(new byte[] {7}));

        clock.advance(Duration.ofMinutes(5).minusMillis(1));
        assertEquals(1, upstream.gets.get(), "the fill still holds the one connection");
        clock.advance(Duration.ofMillis(1));
        assertTrue(fill.done().isCompletedExceptionally());
        assertTrue(next.isDone());
        assertEquals(2, upstream.gets.get());
    }

    /** A store whose disk is full: every ingest fails. */
    private static BlobStore full(FileBlobStore real) {
        return new BlobStore() {
            @Override
            public java.util.Optional<dev.regmirror.core.blob.StoredBlob> find(Digest digest) throws java.io.IOException {
                return real.find(digest);
            }

            @Override
            public java.util.Optional<dev.regmirror.core.blob.OpenBlob> open(Digest digest) throws java.io.IOException {
                return real.open(digest);
            }

            @Override
            public dev.regmirror.core.blob.BlobIngest begin(Digest expected, long size) throws java.io.IOException {
                throw new java.io.IOException("No space left on device");
            }

            @Override
            public dev.regmirror.core.blob.BlobIngest beginRelay(Digest expected, long size) throws java.io.IOException {
                throw new java.io.IOException("No space left on device");
            }

            @Override
            public java.util.Optional<byte[]> readAll(Digest digest) throws java.io.IOException {
                return real.readAll(digest);
            }

            @Override
            public dev.regmirror.core.blob.StoredBlob put(Digest digest, byte[] bytes) throws java.io.IOException {
                throw new java.io.IOException("No space left on device");
            }

            @Override
            public dev.regmirror.core.blob.StoredBlob adopt(java.nio.file.Path file, Digest digest, long size)
                    throws java.io.IOException {
                throw new java.io.IOException("No space left on device");
            }

            @Override
            public java.util.Optional<Long> delete(Digest digest) throws java.io.IOException {
                return real.delete(digest);
            }

            @Override
            public java.util.Optional<byte[]> peek(Digest digest) throws java.io.IOException {
                return real.peek(digest);
            }

            @Override
            public java.util.Optional<Checked> openForCheck(Digest digest) throws java.io.IOException {
                return real.openForCheck(digest);
            }

            @Override
            public boolean has(Digest digest) {
                return real.has(digest);
            }

            @Override
            public java.util.Optional<String> quarantine(Digest digest, Object identity, java.time.Instant at)
                    throws java.io.IOException {
                return real.quarantine(digest, identity, at);
            }

            @Override
            public java.util.List<Leftover> ingestLeftovers() throws java.io.IOException {
                return real.ingestLeftovers();
            }

            @Override
            public dev.regmirror.core.cache.CacheIndex index() {
                return real.index();
            }

            @Override
            public long evictions() {
                return real.evictions();
            }
        };
    }

    @Test
    void whenTheCacheCannotStoreBlobsTheyStreamThroughUncached() throws Exception {
        byte[] bytes = random(2048);
        Digest digest = Digest.sha256Of(bytes);
        ScriptedUpstream upstream = new ScriptedUpstream(bytes.length);
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        StorageHealth health = new StorageHealth(java.time.Clock.systemUTC(), Duration.ofMinutes(1), meters);
        PullThroughBlobs blobs = new PullThroughBlobs(new RegistryClients(List.of(upstream)),
                full(FileBlobStore.open(dir)), Runnable::run, SCHEDULER, Duration.ofMinutes(5), health, meters);

        BlobSource first = blobs.open(route, digest).get(5, TimeUnit.SECONDS);
        assertTrue(first instanceof BlobSource.Direct, "the body already fetched is handed over: " + first);
        assertEquals(1, upstream.gets.get());
        assertTrue(health.troubled());

        BlobSource second = blobs.open(route, digest).get(5, TimeUnit.SECONDS);
        assertTrue(second instanceof BlobSource.Direct, "while the cache is troubled, no fill is tried");
        assertEquals(2, upstream.gets.get());
        assertEquals(1.0, meters.counter("regmirror.cache.write.failures").count());
        assertEquals(2.0, meters.counter("regmirror.blobs.uncached").count());
        assertEquals(2.0, meters.counter("regmirror.blob.requests", "upstream", "docker.io", "result", "uncached").count());
    }

    /**
     * A follower looks at the fill on its own thread while the commit runs on a disk thread. Seen
     * from there, a fill that has ended without failing has all its bytes readable: otherwise the
     * follower ends its response short of the last byte and the client waits for it forever (an
     * export that never ended, issue 9). The poller spins across each commit, so a view that reads
     * the count before the end is caught within a few of these blobs.
     */
    @Test
    void aFollowerNeverSeesAFillEndedShortOfItsLastByte() throws Exception {
        java.util.concurrent.ExecutorService disk = java.util.concurrent.Executors.newSingleThreadExecutor();
        try {
            FileBlobStore store = FileBlobStore.open(dir);
            for (int i = 0; i < 300; i++) {
                byte[] bytes = ByteBuffer.allocate(64).putInt(i).array();
                ScriptedUpstream upstream = new ScriptedUpstream(bytes.length);
                BlobFill fill = new BlobFill(route, Digest.sha256Of(bytes));
                fill.start(upstream, store, disk, SCHEDULER, Duration.ofMinutes(5));
                fill.started().get(5, TimeUnit.SECONDS);
                upstream.body.submit(Unpooled.wrappedBuffer(bytes));
                upstream.body.close();
                BlobFill.Progress progress;
                do {
                    progress = fill.progress();
                } while (!progress.ended());
                assertTrue(!progress.failed(), "blob " + i + " failed: " + fill.done());
                assertEquals(bytes.length, progress.readable(), "blob " + i + " ended with bytes still held back");
            }
        } finally {
            disk.shutdownNow();
        }
    }

    /**
     * A reader whose wake-up throws (its event loop shut down) neither keeps the other readers
     * waiting nor stops the fill: before, the exception failed the chain of disk steps, the commit
     * queued behind it was skipped, and the digest's fill never ended for anyone.
     */
    @Test
    void aReaderWhoseWakeUpThrowsStopsNeitherTheOthersNorTheCommit() throws Exception {
        byte[] bytes = random(1000);
        ScriptedUpstream upstream = new ScriptedUpstream(bytes.length);
        FileBlobStore store = FileBlobStore.open(dir);
        BlobFill fill = new BlobFill(route, Digest.sha256Of(bytes));
        fill.start(upstream, store, Runnable::run, SCHEDULER, Duration.ofMinutes(5));
        fill.started().get(5, TimeUnit.SECONDS);
        fill.whenReadableBeyond(0, () -> {
            throw new java.util.concurrent.RejectedExecutionException("event loop shut down");
        });
        CompletableFuture<Void> other = new CompletableFuture<>();
        fill.whenReadableBeyond(0, () -> other.complete(null));

        upstream.body.submit(Unpooled.wrappedBuffer(bytes));
        assertTrue(other.isDone(), "the other reader was woken");
        upstream.body.close();
        assertEquals(bytes.length, fill.done().get(5, TimeUnit.SECONDS).size());
        assertArrayEquals(bytes, store.readAll(Digest.sha256Of(bytes)).orElseThrow());
    }

    /** A disk executor that refuses work (shut down) fails the fill; it does not leave it hanging. */
    @Test
    void aDiskExecutorThatRefusesWorkFailsTheFill() throws Exception {
        byte[] bytes = random(1000);
        ScriptedUpstream upstream = new ScriptedUpstream(bytes.length);
        BlobFill fill = new BlobFill(route, Digest.sha256Of(bytes));
        fill.start(upstream, FileBlobStore.open(dir), work -> {
            throw new java.util.concurrent.RejectedExecutionException("disk executor shut down");
        }, SCHEDULER, Duration.ofMinutes(5));
        fill.started().get(5, TimeUnit.SECONDS);
        upstream.body.submit(Unpooled.wrappedBuffer(bytes));
        java.util.concurrent.ExecutionException failed = org.junit.jupiter.api.Assertions.assertThrows(
                java.util.concurrent.ExecutionException.class, () -> fill.done().get(5, TimeUnit.SECONDS));
        assertTrue(failed.getCause() instanceof java.util.concurrent.RejectedExecutionException, failed.toString());
        assertTrue(upstream.body.isClosed() || upstream.body.getNumberOfSubscribers() == 0,
                "the upstream body is let go");
    }

    /** A fill whose timeout cannot be armed fails at once instead of running with nothing to end it. */
    @Test
    void aFillWhoseTimeoutCannotBeArmedFailsBeforeItStarts() throws Exception {
        java.util.concurrent.ScheduledExecutorService stopped = java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
        stopped.shutdown();
        ScriptedUpstream upstream = new ScriptedUpstream(10);
        BlobFill fill = new BlobFill(route, Digest.sha256Of(new byte[10]));
        fill.start(upstream, FileBlobStore.open(dir), Runnable::run, stopped, Duration.ofMinutes(5));
        org.junit.jupiter.api.Assertions.assertThrows(java.util.concurrent.ExecutionException.class,
                () -> fill.started().get(5, TimeUnit.SECONDS));
        assertTrue(fill.done().isCompletedExceptionally());
        try (java.util.stream.Stream<Path> left = java.nio.file.Files.walk(dir)) {
            assertEquals(List.of(), left.filter(java.nio.file.Files::isRegularFile)
                    .filter(file -> !file.getFileName().toString().equals(".lock")).toList(), "no ingest left behind");
        }
    }

    @Test
    void concurrentRequestsShareOneUpstreamFetch() throws Exception {
        byte[] bytes = random(2048);
        Digest digest = Digest.sha256Of(bytes);
        ScriptedUpstream upstream = new ScriptedUpstream(bytes.length);
        FileBlobStore store = FileBlobStore.open(dir);
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        PullThroughBlobs blobs = new PullThroughBlobs(new RegistryClients(List.of(upstream)), store, Runnable::run,
                SCHEDULER, Duration.ofMinutes(5), new StorageHealth(java.time.Clock.systemUTC(), Duration.ofSeconds(30),
                        meters), meters);

        List<CompletableFuture<BlobSource>> opened = new java.util.ArrayList<>();
        for (int i = 0; i < 10; i++) {
            opened.add(blobs.open(route, digest));
        }
        for (CompletableFuture<BlobSource> source : opened) {
            assertTrue(source.get(5, TimeUnit.SECONDS) instanceof BlobSource.Filling);
        }
        assertEquals(1, upstream.gets.get());
        assertEquals(1.0, meters.counter("regmirror.blob.requests", "upstream", "docker.io", "result", "miss").count());
        assertEquals(9.0, meters.counter("regmirror.blob.requests", "upstream", "docker.io", "result", "shared").count());
        assertEquals(1.0, meters.get("regmirror.fills.inflight").gauge().value(), "one download runs");
        upstream.body.submit(Unpooled.wrappedBuffer(bytes));
        upstream.body.close();
        ((BlobSource.Filling) opened.get(0).get()).fill().done().get(5, TimeUnit.SECONDS);

        BlobSource afterwards = blobs.open(route, digest).get(5, TimeUnit.SECONDS);
        assertTrue(afterwards instanceof BlobSource.Cached);
        ((BlobSource.Cached) afterwards).blob().close();
        assertEquals(1, upstream.gets.get(), "a cached blob makes no upstream request");
        assertEquals(1.0, meters.counter("regmirror.blob.requests", "upstream", "docker.io", "result", "hit").count());
        assertEquals(0.0, meters.get("regmirror.fills.inflight").gauge().value(), "the download has ended");
    }
}
