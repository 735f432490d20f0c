package dev.regmirror.core.client;

import io.netty.buffer.Unpooled;
import io.netty.buffer.ByteBuf;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.regmirror.core.error.RegistryErrorCode;
import dev.regmirror.core.error.UpstreamErrorException;
import dev.regmirror.core.error.UpstreamUnavailableException;
import dev.regmirror.core.manifest.ManifestBytes;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.reference.Reference;
import dev.regmirror.core.reference.RepositoryName;
import dev.regmirror.core.reference.Tag;
import dev.regmirror.core.testing.ManualScheduler;
import dev.regmirror.core.testing.UnscriptedRegistryClient;
import dev.regmirror.core.upstream.UpstreamLimits;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Turns at a limited upstream, against an upstream that answers only when the test says so, on a
 * hand-moved clock: how many requests are in flight, in which order the waiting ones start, every
 * way a turn is let go (exactly once), the wait that runs out, and the rate.
 */
class LimitedRegistryClientTest {

    private static final Duration READ_TIMEOUT = Duration.ofSeconds(60);
    private static final RepositoryName ALPINE = new RepositoryName("library/alpine");
    private static final Digest BLOB = Digest.sha256Of(new byte[] {1});

    private final ManualScheduler clock = new ManualScheduler();
    private final ScriptedUpstream upstream = new ScriptedUpstream();
    private final HandOff handOff = new HandOff();
    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();

    private LimitedRegistryClient limited(int connections, double perSecond) {
        return new LimitedRegistryClient(upstream, new UpstreamLimits("regmirror.upstreams.dockerhub", connections,
                perSecond, READ_TIMEOUT), handOff, clock, clock, meters);
    }

    private CompletableFuture<BlobHead> head(LimitedRegistryClient client, String repository) {
        return client.headBlob(new RepositoryName(repository), BLOB);
    }

    private double waiting() {
        return meters.get("regmirror.upstream.waiting").tag("upstream", "docker.io").gauge().value();
    }

    private double timeouts(String limit) {
        return meters.get("regmirror.upstream.wait.timeouts").tags("upstream", "docker.io", "limit", limit)
                .counter().count();
    }

    @Test
    void atMostTwoAreInFlightAndTheOthersStartInTheOrderTheyCame() {
        LimitedRegistryClient client = limited(2, 0);
        List<CompletableFuture<BlobHead>> heads = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            heads.add(head(client, "r/" + i));
        }
        assertEquals(List.of("r/0", "r/1"), upstream.started());
        assertEquals(4, waiting());

        upstream.answer("r/1", new BlobHead(1));
        assertEquals(List.of("r/0", "r/1"), upstream.started(), "a waiting request resumes on the executor");
        handOff.runAll();
        assertEquals(List.of("r/0", "r/1", "r/2"), upstream.started());
        assertEquals(1, heads.get(1).join().size());

        upstream.answer("r/0", new BlobHead(0));
        handOff.runAll();
        UpstreamErrorException notFound = notFound();
        upstream.fail("r/2", notFound);
        handOff.runAll();
        assertEquals(List.of("r/0", "r/1", "r/2", "r/3", "r/4"), upstream.started());
        assertSame(notFound, failure(heads.get(2)), "the upstream's failure itself, not wrapped");

        upstream.answer("r/3", new BlobHead(3));
        handOff.runAll();
        assertEquals(List.of("r/0", "r/1", "r/2", "r/3", "r/4", "r/5"), upstream.started());
        assertEquals(0, waiting());
        assertEquals(0, clock.pending(), "the deadline of every request that got its turn is cancelled");
    }

    @Test
    void aCallThatThrowsLetsItsTurnGo() {
        LimitedRegistryClient client = limited(1, 0);
        CompletableFuture<TagList> tags = client.listTags(ALPINE, java.util.OptionalInt.empty(),
                java.util.Optional.empty());
        assertInstanceOf(UnsupportedOperationException.class, failure(tags));
        head(client, "next");
        assertEquals(List.of("next"), upstream.started());
    }

    @Test
    void aBlobHoldsItsTurnUntilItsBodyIsReadToTheEnd() {
        LimitedRegistryClient client = limited(1, 0);
        Reader reader = blobRead(client);
        head(client, "next");
        upstream.body.send(3);
        clock.advance(READ_TIMEOUT.minusMillis(1));
        handOff.runAll();
        assertEquals(List.of("blob"), upstream.started(), "the answer's head alone does not end the turn");

        upstream.body.complete();
        handOff.runAll();
        assertEquals(List.of("blob", "next"), upstream.started());
        assertTrue(reader.completed);
        assertEquals(List.of(3), reader.items);
    }

    @Test
    void aBlobWhoseReaderCancelsLetsItsTurnGo() {
        LimitedRegistryClient client = limited(1, 0);
        Reader reader = blobRead(client);
        head(client, "next");
        upstream.body.send(1);
        reader.subscription.cancel();
        handOff.runAll();
        assertTrue(upstream.body.cancelled, "the cancel reaches the upstream's connection");
        assertEquals(List.of("blob", "next"), upstream.started());
    }

    @Test
    void aBlobThatBreaksOffMidwayLetsItsTurnGo() {
        LimitedRegistryClient client = limited(1, 0);
        Reader reader = blobRead(client);
        head(client, "next");
        upstream.body.send(1);
        UpstreamUnavailableException broke = new UpstreamUnavailableException("docker.io", "connection broke off", null);
        upstream.body.fail(broke);
        handOff.runAll();
        assertSame(broke, reader.failure);
        assertEquals(List.of("blob", "next"), upstream.started());
    }

    /** A stall past the read timeout: the guard fails the reader, who then cancels too. One turn comes back. */
    @Test
    void aBodyThatFailsAndIsThenCancelledLetsOnlyOneRequestIn() {
        LimitedRegistryClient client = limited(1, 0);
        Reader reader = blobRead(client);
        head(client, "next");
        head(client, "after");
        upstream.body.fail(new UpstreamUnavailableException("docker.io", "read timed out after 60s", null));
        reader.subscription.cancel();
        reader.subscription.cancel();
        handOff.runAll();
        assertEquals(List.of("blob", "next"), upstream.started());
        assertEquals(1, waiting());
    }

    @Test
    void aBlobTheUpstreamRefusesLetsItsTurnGo() {
        LimitedRegistryClient client = limited(1, 0);
        CompletableFuture<BlobBody> blob = client.getBlob(new RepositoryName("blob"), BLOB);
        head(client, "next");
        UpstreamErrorException notFound = notFound();
        upstream.fail("blob", notFound);
        handOff.runAll();
        assertSame(notFound, failure(blob));
        assertEquals(List.of("blob", "next"), upstream.started());
    }

    @Test
    void aBodyNobodyReadsIsCancelledAfterTheReadTimeoutAndItsTurnLetGo() {
        LimitedRegistryClient client = limited(1, 0);
        CompletableFuture<BlobBody> blob = client.getBlob(new RepositoryName("blob"), BLOB);
        upstream.answer("blob", upstream.body);
        head(client, "next");
        clock.advance(READ_TIMEOUT.minusMillis(1));
        handOff.runAll();
        assertEquals(List.of("blob"), upstream.started());

        clock.advance(Duration.ofMillis(1));
        handOff.runAll();
        assertTrue(upstream.body.cancelled);
        assertEquals(List.of("blob", "next"), upstream.started());
        Reader late = new Reader();
        blob.join().publisher().subscribe(late);
        assertInstanceOf(IllegalStateException.class, late.failure);
    }

    @Test
    void aWaitLongerThanTheReadTimeoutFailsWith503NamingTheLimit() {
        LimitedRegistryClient client = limited(2, 0);
        client.getManifest(ALPINE, new Tag("latest"));
        client.getManifest(ALPINE, new Tag("3.20"));
        CompletableFuture<ManifestBytes> third = client.getManifest(ALPINE, new Tag("edge"));
        clock.advance(READ_TIMEOUT.minusMillis(1));
        handOff.runAll();
        assertFalse(third.isDone());

        clock.advance(Duration.ofMillis(1));
        handOff.runAll();
        UpstreamUnavailableException failure = assertInstanceOf(UpstreamUnavailableException.class, failure(third));
        assertEquals("pull manifest edge of library/alpine from docker.io: waited 60s for one of 2 connections"
                + " (regmirror.upstreams.dockerhub.max-connections)", failure.getMessage());
        assertEquals(RegistryErrorCode.UNAVAILABLE, failure.code());
        assertEquals(503, failure.status());
        assertEquals(1, timeouts("max-connections"));
        assertEquals(0, waiting());

        upstream.answer("library/alpine:latest", null);
        handOff.runAll();
        assertEquals(List.of("library/alpine:latest", "library/alpine:3.20"), upstream.started(),
                "a request that gave up never starts");
    }

    @Test
    void requestsStartAtTheRateWithOneSecondsWorthAtOnce() {
        LimitedRegistryClient client = limited(0, 2);
        for (int i = 0; i < 5; i++) {
            head(client, "r/" + i);
        }
        assertEquals(2, upstream.started().size(), "a burst of one second's worth");
        clock.advance(Duration.ofMillis(499));
        handOff.runAll();
        assertEquals(2, upstream.started().size());
        clock.advance(Duration.ofMillis(1));
        handOff.runAll();
        assertEquals(3, upstream.started().size());
        clock.advance(Duration.ofMillis(500));
        handOff.runAll();
        assertEquals(4, upstream.started().size());
        clock.advance(Duration.ofMillis(500));
        handOff.runAll();
        assertEquals(List.of("r/0", "r/1", "r/2", "r/3", "r/4"), upstream.started());

        clock.advance(Duration.ofSeconds(5));
        head(client, "r/5");
        head(client, "r/6");
        head(client, "r/7");
        assertEquals(7, upstream.started().size(), "an idle second refills the bucket, and no more");
    }

    @Test
    void aRequestWaitsForBothAFreeConnectionAndItsTurnAtTheRate() {
        LimitedRegistryClient client = limited(1, 1);
        head(client, "first");
        head(client, "second");
        clock.advance(Duration.ofMillis(100));
        upstream.answer("first", new BlobHead(1));
        handOff.runAll();
        assertEquals(List.of("first"), upstream.started(), "the connection is free, the rate's token is not");
        clock.advance(Duration.ofMillis(900));
        handOff.runAll();
        assertEquals(List.of("first", "second"), upstream.started());
    }

    @Test
    void aWaitForTheRateNamesTheRate() {
        LimitedRegistryClient client = new LimitedRegistryClient(upstream, new UpstreamLimits(
                "regmirror.upstreams.dockerhub", 0, 0.5, Duration.ofSeconds(1)), handOff, clock, clock, meters);
        head(client, "first");
        CompletableFuture<BlobHead> second = head(client, "second");
        clock.advance(Duration.ofSeconds(1));
        handOff.runAll();
        assertEquals("check blob " + BLOB.shortForm() + " of second from docker.io: waited 1s for its turn at 0.5"
                + " requests per second (regmirror.upstreams.dockerhub.max-requests-per-second)",
                failure(second).getMessage());
        assertEquals(1, timeouts("max-requests-per-second"));
        assertEquals(0, timeouts("max-connections"));
        clock.advance(Duration.ofSeconds(5));
        handOff.runAll();
        assertEquals(List.of("first"), upstream.started());
    }

    /** A blob request whose body the returned reader has subscribed to. */
    private Reader blobRead(LimitedRegistryClient client) {
        CompletableFuture<BlobBody> blob = client.getBlob(new RepositoryName("blob"), BLOB);
        upstream.answer("blob", upstream.body);
        Reader reader = new Reader();
        blob.join().publisher().subscribe(reader);
        reader.subscription.request(10);
        return reader;
    }

    private static UpstreamErrorException notFound() {
        return new UpstreamErrorException(RegistryErrorCode.BLOB_UNKNOWN, "not found", null, "docker.io", 404, Map.of());
    }

    private static Throwable failure(CompletableFuture<?> future) {
        assertTrue(future.isCompletedExceptionally(), "failed: " + future);
        return future.handle((value, failure) -> failure).join();
    }

    /** Runs the tasks handed to it only when the test says so. */
    private static final class HandOff implements java.util.concurrent.Executor {

        private final List<Runnable> tasks = new ArrayList<>();

        @Override
        public synchronized void execute(Runnable task) {
            tasks.add(task);
        }

        void runAll() {
            while (true) {
                Runnable next;
                synchronized (this) {
                    if (tasks.isEmpty()) {
                        return;
                    }
                    next = tasks.remove(0);
                }
                next.run();
            }
        }
    }

    /** An upstream that answers each call when the test says so; calls are named by their repository (and tag). */
    private static final class ScriptedUpstream extends UnscriptedRegistryClient {

        private final List<String> started = new ArrayList<>();
        private final Map<String, CompletableFuture<Object>> answers = new java.util.HashMap<>();
        final FakeBody body = new FakeBody();

        List<String> started() {
            return List.copyOf(started);
        }

        @SuppressWarnings("unchecked")
        private <T> CompletableFuture<T> call(String name) {
            started.add(name);
            CompletableFuture<Object> answer = new CompletableFuture<>();
            answers.put(name, answer);
            return (CompletableFuture<T>) answer;
        }

        void answer(String name, Object value) {
            answers.get(name).complete(value);
        }

        void fail(String name, Throwable failure) {
            answers.get(name).completeExceptionally(failure);
        }

        @Override
        public CompletableFuture<ManifestBytes> getManifest(RepositoryName name, Reference reference) {
            return call(name + ":" + reference);
        }

        @Override
        public CompletableFuture<BlobHead> headBlob(RepositoryName name, Digest digest) {
            return call(name.toString());
        }

        @Override
        public CompletableFuture<BlobBody> getBlob(RepositoryName name, Digest digest) {
            return call(name.toString());
        }
    }

    /** A blob body that sends, ends and fails only when told to, and records a cancel. */
    private static final class FakeBody implements BlobBody, Flow.Publisher<ByteBuf>, Flow.Subscription {

        private Flow.Subscriber<? super ByteBuf> subscriber;
        final AtomicInteger subscriptions = new AtomicInteger();
        volatile boolean cancelled;

        @Override
        public long contentLength() {
            return -1;
        }

        @Override
        public Flow.Publisher<ByteBuf> publisher() {
            return this;
        }

        @Override
        public void subscribe(Flow.Subscriber<? super ByteBuf> subscriber) {
            subscriptions.incrementAndGet();
            this.subscriber = subscriber;
            subscriber.onSubscribe(this);
        }

        void send(int value) {
            subscriber.onNext(Unpooled.wrappedBuffer(new byte[] {(byte) value}));
        }

        void complete() {
            subscriber.onComplete();
        }

        void fail(Throwable failure) {
            subscriber.onError(failure);
        }

        @Override
        public void request(long n) {
        }

        @Override
        public void cancel() {
            cancelled = true;
        }
    }

    /** Records what a body's reader is told. */
    private static final class Reader implements Flow.Subscriber<ByteBuf> {

        final List<Integer> items = new ArrayList<>();
        Flow.Subscription subscription;
        Throwable failure;
        boolean completed;

        @Override
        public void onSubscribe(Flow.Subscription subscription) {
            this.subscription = subscription;
        }

        @Override
        public void onNext(ByteBuf item) {
            items.add((int) item.getByte(0));
            item.release();
        }

        @Override
        public void onError(Throwable throwable) {
            failure = throwable;
        }

        @Override
        public void onComplete() {
            completed = true;
        }
    }
}
