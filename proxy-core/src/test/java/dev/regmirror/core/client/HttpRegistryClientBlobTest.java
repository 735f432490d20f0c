package dev.regmirror.core.client;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.absent;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.head;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static dev.regmirror.core.client.Payloads.ALPINE;
import static dev.regmirror.core.client.UpstreamFixture.await;
import static dev.regmirror.core.client.UpstreamFixture.failure;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.http.Fault;
import dev.regmirror.core.error.UpstreamErrorException;
import dev.regmirror.core.error.UpstreamUnavailableException;
import dev.regmirror.core.reference.Digest;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Blob HEAD and GET: streaming with back-pressure, stalls and breaks, redirects to other hosts. */
class HttpRegistryClientBlobTest {

    private static final byte[] LAYER = bytes(64 * 1024, 1);
    private static final Digest LAYER_DIGEST = Digest.sha256Of(LAYER);
    private static final String LAYER_PATH = "/v2/library/alpine/blobs/" + LAYER_DIGEST;

    private final UpstreamFixture fixture = new UpstreamFixture();
    private final WireMockServer upstream = fixture.upstream;
    private final WireMockServer otherHost = fixture.otherHost;
    private final HttpRegistryClient client = fixture.client();

    @AfterEach
    void close() {
        fixture.close();
    }

    private static byte[] bytes(int size, long seed) {
        byte[] bytes = new byte[size];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    private static Throwable bodyFailure(BodySubscriber subscriber) throws Exception {
        try {
            subscriber.result.get(10, TimeUnit.SECONDS);
            throw new AssertionError("the body completed");
        } catch (ExecutionException e) {
            return e.getCause();
        }
    }

    @Test
    void blobStreamsItsBytesAndLength() throws Exception {
        upstream.stubFor(get(LAYER_PATH).willReturn(aResponse().withBody(LAYER)
                .withHeader("Content-Length", String.valueOf(LAYER.length))));

        BlobBody body = await(client.getBlob(ALPINE, LAYER_DIGEST));

        assertEquals(LAYER.length, body.contentLength());
        assertArrayEquals(LAYER, await(BodySubscriber.readAll(body).result));
    }

    @Test
    void largeBlobArrivesInManyChunksNoFasterThanAskedFor() throws Exception {
        byte[] large = bytes(20 * 1024 * 1024, 2);
        Digest digest = Digest.sha256Of(large);
        upstream.stubFor(get("/v2/library/alpine/blobs/" + digest).willReturn(aResponse().withBody(large)));

        BodySubscriber subscriber = BodySubscriber.readAll(await(client.getBlob(ALPINE, digest)));

        assertEquals(digest, Digest.sha256Of(await(subscriber.result)));
        assertTrue(subscriber.items.get() > 20, "items: " + subscriber.items.get());
        assertEquals(0, subscriber.unrequested.get());
    }

    @Test
    void headTellsTheBlobsSize() throws Exception {
        upstream.stubFor(head(urlEqualTo(LAYER_PATH)).willReturn(aResponse().withHeader("Content-Length", "3408729")));

        assertEquals(new BlobHead(3408729), await(client.headBlob(ALPINE, LAYER_DIGEST)));
    }

    @Test
    void upstreamBreakingOffMidBodyFailsTheSubscriberAsUnavailable() throws Exception {
        upstream.stubFor(get(LAYER_PATH).willReturn(aResponse().withFault(Fault.MALFORMED_RESPONSE_CHUNK)));

        Throwable failure = bodyFailure(BodySubscriber.readAll(await(client.getBlob(ALPINE, LAYER_DIGEST))));

        UpstreamUnavailableException e = assertInstanceOf(UpstreamUnavailableException.class, failure);
        assertEquals("docker.io", e.upstream());
        assertTrue(e.getMessage().startsWith("pull blob " + LAYER_DIGEST.shortForm() + " of library/alpine from docker.io ("
                + fixture.url() + "): connection broke off"), e.getMessage());
    }

    @Test
    void upstreamStallingMidBodyFailsTheSubscriberAfterTheReadTimeout() throws Exception {
        try (StallingUpstream stalling = new StallingUpstream(LAYER, 1000)) {
            HttpRegistryClient stalled = fixture.client(fixture.impatient(stalling.url()));
            BlobBody body = await(stalled.getBlob(ALPINE, LAYER_DIGEST));
            long start = System.nanoTime();

            Throwable failure = bodyFailure(BodySubscriber.readAll(body));

            long millis = (System.nanoTime() - start) / 1_000_000;
            assertTrue(millis >= 600 && millis < 3_000, "took " + millis + " ms");
            UpstreamUnavailableException e = assertInstanceOf(UpstreamUnavailableException.class, failure);
            assertTrue(e.getMessage().endsWith("read timed out after 0.7s"), e.getMessage());
        }
    }

    @Test
    void redirectToAnotherHostCarriesNoAuthorizationButOneOnTheSameHostDoes() throws Exception {
        upstream.stubFor(get(LAYER_PATH).withHeader("Authorization", absent()).willReturn(aResponse().withStatus(401)
                .withHeader("WWW-Authenticate", "Bearer realm=\"" + fixture.url() + "/token\",service=\"registry\"")));
        upstream.stubFor(get(urlPathEqualTo("/token")).willReturn(okJson(Payloads.tokenJson("t1", 300))));
        upstream.stubFor(get(LAYER_PATH).withHeader("Authorization", equalTo("Bearer t1")).willReturn(aResponse()
                .withStatus(307).withHeader("Location", "../../../storage/layer?part=1")));
        upstream.stubFor(get("/v2/storage/layer?part=1").willReturn(aResponse().withStatus(302)
                .withHeader("Location", fixture.otherUrl() + "/cdn/layer?signature=abc")));
        otherHost.stubFor(get("/cdn/layer?signature=abc").willReturn(aResponse().withBody(LAYER)));

        assertArrayEquals(LAYER, await(BodySubscriber.readAll(await(client.getBlob(ALPINE, LAYER_DIGEST))).result));

        upstream.verify(1, getRequestedFor(urlEqualTo("/v2/storage/layer?part=1"))
                .withHeader("Authorization", equalTo("Bearer t1")));
        otherHost.verify(1, getRequestedFor(urlEqualTo("/cdn/layer?signature=abc")).withHeader("Authorization", absent()));
    }

    @Test
    void redirectToTheSameHostOnAnotherPortCarriesNoAuthorization() throws Exception {
        var settings = fixture.settings(fixture.url(), Optional.of(UpstreamFixture.CREDENTIALS),
                Optional.empty());
        upstream.stubFor(get(LAYER_PATH).withHeader("Authorization", absent()).willReturn(aResponse().withStatus(401)
                .withHeader("WWW-Authenticate", "Basic realm=\"registry\"")));
        upstream.stubFor(get(LAYER_PATH).withHeader("Authorization", equalTo(TokenFetcher.basic(UpstreamFixture.CREDENTIALS)))
                .willReturn(aResponse().withStatus(301).withHeader("Location",
                        "http://localhost:" + otherHost.port() + "/cdn/layer")));
        otherHost.stubFor(get("/cdn/layer").willReturn(aResponse().withBody(LAYER)));

        assertArrayEquals(LAYER, await(BodySubscriber.readAll(await(fixture.client(settings)
                .getBlob(ALPINE, LAYER_DIGEST))).result));

        otherHost.verify(1, getRequestedFor(urlEqualTo("/cdn/layer")).withHeader("Authorization", absent()));
    }

    @Test
    void aBlobRedirectedToAStorageHostGetsTheTokenOnlyOnTheRegistry() throws Exception {
        byte[] large = bytes(3 * 1024 * 1024, 4);
        Digest digest = Digest.sha256Of(large);
        String path = "/v2/library/alpine/blobs/" + digest;
        upstream.stubFor(get(path).withHeader("Authorization", absent()).willReturn(aResponse().withStatus(401)
                .withHeader("WWW-Authenticate", "Bearer realm=\"" + fixture.url() + "/token\",service=\"registry\"")));
        upstream.stubFor(get(urlPathEqualTo("/token")).willReturn(okJson(Payloads.tokenJson("t1", 300))));
        upstream.stubFor(get(path).withHeader("Authorization", equalTo("Bearer t1")).willReturn(aResponse()
                .withStatus(307).withHeader("Location", fixture.otherUrl() + "/s3/layer?X-Amz-Signature=abc")));
        otherHost.stubFor(get("/s3/layer?X-Amz-Signature=abc").willReturn(aResponse().withBody(large)));

        BodySubscriber first = BodySubscriber.readAll(await(client.getBlob(ALPINE, digest)));
        assertEquals(digest, Digest.sha256Of(await(first.result)));
        BodySubscriber second = BodySubscriber.readAll(await(client.getBlob(ALPINE, digest)));
        assertEquals(digest, Digest.sha256Of(await(second.result)));

        assertEquals(first.items.get(), first.direct.get(), "every buffer direct");
        upstream.verify(1, getRequestedFor(urlPathEqualTo("/token")));
        upstream.verify(2, getRequestedFor(urlEqualTo(path)).withHeader("Authorization", equalTo("Bearer t1")));
        otherHost.verify(2, getRequestedFor(urlEqualTo("/s3/layer?X-Amz-Signature=abc"))
                .withHeader("Authorization", absent()).withHeader("User-Agent", equalTo(HttpRegistryClient.USER_AGENT)));
    }

    @Test
    void everyBufferIsReleasedWhetherTheBodyEndsBreaksIsCancelledOrIsAnError() throws Exception {
        byte[] large = bytes(3 * 1024 * 1024, 5);
        Digest digest = Digest.sha256Of(large);
        upstream.stubFor(get("/v2/library/alpine/blobs/" + digest).willReturn(aResponse().withBody(large)));
        upstream.stubFor(get(LAYER_PATH).willReturn(aResponse().withFault(Fault.MALFORMED_RESPONSE_CHUNK)));
        Digest missing = Digest.sha256Of(new byte[] {9});
        upstream.stubFor(get("/v2/library/alpine/blobs/" + missing).willReturn(aResponse().withStatus(404)
                .withBody("{\"errors\":[{\"code\":\"BLOB_UNKNOWN\",\"message\":\"blob unknown\"}]}")));

        assertArrayEquals(large, await(BodySubscriber.readAll(await(client.getBlob(ALPINE, digest))).result));
        // Counted once the client has been used and the pool is quiet: the first use leaves buffers the
        // pool keeps for good (caches, a connection's), which earlier tests in this JVM may or may not
        // have caused already; a buffer an exchange fails to release shows on top of that.
        long before = quietAllocations();
        CancellingAfterOne cancelling = new CancellingAfterOne();
        await(client.getBlob(ALPINE, digest)).publisher().subscribe(cancelling);
        await(cancelling.cancelled);
        bodyFailure(BodySubscriber.readAll(await(client.getBlob(ALPINE, LAYER_DIGEST))));
        failure(client.getBlob(ALPINE, missing), UpstreamErrorException.class);
        assertArrayEquals(large, await(BodySubscriber.readAll(await(client.getBlob(ALPINE, digest))).result));

        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (activeDirectAllocations() != before && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(before, activeDirectAllocations(), "pooled direct buffers still held");
    }

    @Test
    void aMalformedAnswerClosesItsConnection() throws Exception {
        assertMalformedAnswersCloseTheirConnections(malformed -> malformed.getBlob(ALPINE, LAYER_DIGEST));
    }

    @Test
    void aMalformedAnswerToAHeadClosesItsConnection() throws Exception {
        assertMalformedAnswersCloseTheirConnections(malformed -> malformed.headBlob(ALPINE, LAYER_DIGEST));
        assertMalformedAnswersCloseTheirConnections(malformed -> malformed.headManifest(ALPINE, Payloads.LATEST));
    }

    @Test
    void aMalformedAnswerToAManifestGetClosesItsConnection() throws Exception {
        assertMalformedAnswersCloseTheirConnections(malformed -> malformed.getManifest(ALPINE, Payloads.LATEST));
    }

    @Test
    void aMalformedAnswerToATagListClosesItsConnection() throws Exception {
        assertMalformedAnswersCloseTheirConnections(malformed -> malformed.listTags(ALPINE,
                java.util.OptionalInt.empty(), java.util.Optional.empty()));
        assertMalformedAnswersCloseTheirConnections(malformed -> malformed.listReferrers(ALPINE, LAYER_DIGEST,
                java.util.Optional.empty()));
    }

    @Test
    void aMalformedAnswerFromATokenRealmClosesItsConnection() throws Exception {
        assertMalformedAnswersFrom(realm -> {
            upstream.stubFor(get(Payloads.MANIFEST_PATH).willReturn(aResponse().withStatus(401)
                    .withHeader("WWW-Authenticate", Payloads.bearerChallenge(realm.toString()))));
            return () -> client.getManifest(ALPINE, Payloads.LATEST);
        });
    }

    /** {@link #assertMalformedAnswersFrom} with a client of the malformed server as its endpoint. */
    private void assertMalformedAnswersCloseTheirConnections(
            java.util.function.Function<HttpRegistryClient, java.util.concurrent.CompletableFuture<?>> request)
            throws Exception {
        assertMalformedAnswersFrom(malformed -> {
            HttpRegistryClient client = fixture.client(fixture.impatient(malformed));
            return () -> request.apply(client);
        });
    }

    /**
     * Five requests (made ready by {@code requests} for the server's URL) that reach a server
     * answering each with a malformed head on a connection of its own (never kept): each fails naming
     * it, and the client closes each connection before the server does, so none is left in CLOSE_WAIT.
     */
    private void assertMalformedAnswersFrom(java.util.function.Function<java.net.URI,
            java.util.function.Supplier<java.util.concurrent.CompletableFuture<?>>> requests)
            throws Exception {
        try (java.net.ServerSocket server = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            java.util.concurrent.atomic.AtomicInteger closedByClient = new java.util.concurrent.atomic.AtomicInteger();
            Thread answering = new Thread(() -> answerMalformed(server, closedByClient));
            answering.setDaemon(true);
            answering.start();
            java.util.function.Supplier<java.util.concurrent.CompletableFuture<?>> request =
                    requests.apply(java.net.URI.create("http://127.0.0.1:" + server.getLocalPort()));

            for (int i = 0; i < 5; i++) {
                UpstreamUnavailableException e = failure(request.get(), UpstreamUnavailableException.class);
                assertTrue(e.getMessage().contains("malformed response head"), e.getMessage());
            }

            answering.join(10_000);
            assertEquals(5, closedByClient.get(), "connections the client closed after a malformed head");
        }
    }

    /** Answers five requests with a head whose line end is one wrong byte, and counts the clients that hang up. */
    private static void answerMalformed(java.net.ServerSocket server, java.util.concurrent.atomic.AtomicInteger closed) {
        for (int i = 0; i < 5; i++) {
            try (java.net.Socket socket = server.accept()) {
                java.io.InputStream in = socket.getInputStream();
                int newlines = 0;
                int b;
                while (newlines < 2 && (b = in.read()) >= 0) {
                    newlines = b == '\n' ? newlines + 1 : b == '\r' ? newlines : 0;
                }
                socket.getOutputStream().write("HTTP/1.1 200 OK\r\nContent-Length: 10\r\nX-Bad\u0001: y\r\n\r\n"
                        .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
                socket.getOutputStream().flush();
                socket.setSoTimeout(5_000);
                if (in.read() < 0) {
                    closed.incrementAndGet();
                }
            } catch (java.io.IOException e) {
                return;
            }
        }
    }

    /** Allocations of pooled direct buffers not yet given back to the pool. */
    /** The pool's active allocations once two counts half a second apart agree (at most 10 s). */
    private static long quietAllocations() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        long count = activeDirectAllocations();
        while (System.nanoTime() < deadline) {
            Thread.sleep(500);
            long again = activeDirectAllocations();
            if (again == count) {
                return count;
            }
            count = again;
        }
        return count;
    }

    /**
     * The pool's direct allocations not given back. A buffer released on an event loop goes to that
     * thread's cache first, which the pool still counts as allocated: the client's loop trims its
     * cache before each count, or the count would depend on which thread released the last buffer.
     */
    private static long activeDirectAllocations() {
        try {
            UpstreamFixture.BLOB_LOOPS.group().submit(() -> io.netty.buffer.PooledByteBufAllocator.DEFAULT
                    .trimCurrentThreadCache()).get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError("trimming the client loop's buffer cache", e);
        }
        return io.netty.buffer.PooledByteBufAllocator.DEFAULT.metric().directArenas().stream()
                .mapToLong(io.netty.buffer.PoolArenaMetric::numActiveAllocations).sum();
    }
}
