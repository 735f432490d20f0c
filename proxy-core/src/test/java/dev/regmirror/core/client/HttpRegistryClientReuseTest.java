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

import com.github.tomakehurst.wiremock.http.Fault;
import dev.regmirror.core.error.ProxyException;
import dev.regmirror.core.error.RegistryErrorCode;
import dev.regmirror.core.error.UpstreamErrorException;
import dev.regmirror.core.error.UpstreamUnavailableException;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.reference.Tag;
import dev.regmirror.core.testing.TcpForwarder;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Keep-alive on the Netty wire, counted at a forwarder in front of the upstream: answers read to
 * their end (blobs, HEADs, manifests, tag lists, tokens, errors) leave their connection for the next request;
 * broken, cancelled, refused or dropped ones do not.
 */
class HttpRegistryClientReuseTest {

    private static final byte[] LARGE = bytes(3 * 1024 * 1024, 7);
    private static final Digest LARGE_DIGEST = Digest.sha256Of(LARGE);
    private static final byte[] SMALL = bytes(10_000, 8);
    private static final Digest SMALL_DIGEST = Digest.sha256Of(SMALL);
    private static final Digest BROKEN_DIGEST = Digest.sha256Of(new byte[] {1});

    private final UpstreamFixture fixture = new UpstreamFixture();
    private final TcpForwarder forwarder;
    private final HttpRegistryClient client;

    HttpRegistryClientReuseTest() throws IOException {
        fixture.upstream.stubFor(get(path(LARGE_DIGEST)).willReturn(aResponse().withBody(LARGE)));
        fixture.upstream.stubFor(get(path(SMALL_DIGEST)).willReturn(aResponse().withBody(SMALL)));
        fixture.upstream.stubFor(get(path(BROKEN_DIGEST)).willReturn(aResponse()
                .withFault(Fault.MALFORMED_RESPONSE_CHUNK)));
        forwarder = new TcpForwarder(fixture.upstream.port());
        client = fixture.client(fixture.settings(URI.create("http://127.0.0.1:" + forwarder.port()),
                java.util.Optional.empty(), java.util.Optional.empty()));
    }

    @AfterEach
    void close() {
        forwarder.close();
        fixture.close();
    }

    private static String path(Digest digest) {
        return "/v2/library/alpine/blobs/" + digest;
    }

    private static byte[] bytes(int size, long seed) {
        byte[] bytes = new byte[size];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    private byte[] read(Digest digest) throws Exception {
        return await(BodySubscriber.readAll(await(client.getBlob(ALPINE, digest))).result);
    }

    @Test
    void blobsReadToTheirEndShareOneConnection() throws Exception {
        assertArrayEquals(LARGE, read(LARGE_DIGEST));
        assertArrayEquals(SMALL, read(SMALL_DIGEST));
        assertArrayEquals(LARGE, read(LARGE_DIGEST));

        assertEquals(1, forwarder.connections());
    }

    @Test
    void headsLeaveTheirConnectionForTheNextRequest() throws Exception {
        fixture.upstream.stubFor(head(urlEqualTo(path(SMALL_DIGEST))).willReturn(aResponse()
                .withHeader("Content-Length", String.valueOf(SMALL.length))));

        for (int i = 0; i < 3; i++) {
            assertEquals(new BlobHead(SMALL.length), await(client.headBlob(ALPINE, SMALL_DIGEST)));
            assertArrayEquals(SMALL, read(SMALL_DIGEST));
        }

        assertEquals(1, forwarder.connections());
    }

    @Test
    void manifestsTagListsAndErrorsShareTheBlobsConnection() throws Exception {
        fixture.upstream.stubFor(get(urlEqualTo(Payloads.MANIFEST_PATH)).willReturn(aResponse()
                .withHeader("Content-Type", "application/vnd.oci.image.manifest.v1+json")
                .withBody(Payloads.MANIFEST_BYTES)));
        fixture.upstream.stubFor(get(urlEqualTo("/v2/library/alpine/tags/list")).willReturn(aResponse()
                .withBody("{\"name\":\"library/alpine\",\"tags\":[\"latest\"]}")));
        fixture.upstream.stubFor(get(urlEqualTo("/v2/library/alpine/manifests/missing")).willReturn(aResponse()
                .withStatus(404).withBody("{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\",\"message\":\"no\"}]}")));

        assertArrayEquals(SMALL, read(SMALL_DIGEST));
        assertEquals(Payloads.MANIFEST_DIGEST, await(client.getManifest(ALPINE, Payloads.LATEST)).digest());
        assertEquals(java.util.List.of("latest"), await(client.listTags(ALPINE, java.util.OptionalInt.empty(),
                java.util.Optional.empty())).tags());
        assertEquals(RegistryErrorCode.MANIFEST_UNKNOWN, failure(client.getManifest(ALPINE, new Tag("missing")),
                UpstreamErrorException.class).code());
        assertArrayEquals(SMALL, read(SMALL_DIGEST));

        assertEquals(1, forwarder.connections());
    }

    @Test
    void aTokenFromTheEndpointsOwnRealmComesOverTheKeptConnection() throws Exception {
        String endpoint = "http://127.0.0.1:" + forwarder.port();
        fixture.upstream.stubFor(get(urlEqualTo(Payloads.MANIFEST_PATH)).withHeader("Authorization", absent())
                .willReturn(aResponse().withStatus(401)
                        .withHeader("WWW-Authenticate", Payloads.bearerChallenge(endpoint))));
        fixture.upstream.stubFor(get(urlPathEqualTo("/token")).willReturn(okJson(Payloads.tokenJson("t1", 300))));
        fixture.upstream.stubFor(get(urlEqualTo(Payloads.MANIFEST_PATH)).withHeader("Authorization",
                equalTo("Bearer t1")).willReturn(aResponse().withBody(Payloads.MANIFEST_BYTES)));

        assertArrayEquals(SMALL, read(SMALL_DIGEST));
        assertEquals(Payloads.MANIFEST_DIGEST, await(client.getManifest(ALPINE, Payloads.LATEST)).digest());
        assertArrayEquals(SMALL, read(SMALL_DIGEST));

        fixture.upstream.verify(1, getRequestedFor(urlPathEqualTo("/token")));
        assertEquals(1, forwarder.connections());
    }

    @Test
    void aTooLargeManifestsConnectionIsClosedNotReused() throws Exception {
        fixture.upstream.stubFor(get(urlEqualTo(Payloads.MANIFEST_PATH)).willReturn(aResponse()
                .withBody(new byte[ManifestCheck.MAX_MANIFEST + 1])));

        failure(client.getManifest(ALPINE, Payloads.LATEST), ProxyException.class);

        assertArrayEquals(SMALL, read(SMALL_DIGEST));
        assertEquals(2, forwarder.connections());
        awaitEnded(1);
    }

    @Test
    void aConnectionTheServerClosedWhileIdleIsNotUsedAgain() throws Exception {
        assertArrayEquals(SMALL, read(SMALL_DIGEST));

        forwarder.dropAll();

        assertArrayEquals(SMALL, read(SMALL_DIGEST));
        assertEquals(2, forwarder.connections());
        awaitEnded(1);
    }

    @Test
    void aCancelledBodysConnectionIsClosedNotReused() throws Exception {
        CancellingAfterOne cancelling = new CancellingAfterOne();
        await(client.getBlob(ALPINE, LARGE_DIGEST)).publisher().subscribe(cancelling);
        await(cancelling.cancelled);

        assertArrayEquals(SMALL, read(SMALL_DIGEST));
        assertEquals(2, forwarder.connections());
        awaitEnded(1);
    }

    @Test
    void aBrokenBodysConnectionIsClosedNotReused() throws Exception {
        try {
            read(BROKEN_DIGEST);
            throw new AssertionError("the broken body completed");
        } catch (ExecutionException e) {
            assertInstanceOf(UpstreamUnavailableException.class, e.getCause());
        }

        assertArrayEquals(SMALL, read(SMALL_DIGEST));
        assertEquals(2, forwarder.connections());
        awaitEnded(1);
    }

    @Test
    void aRequestOnAKeptConnectionThatClosesUnansweredIsSentAgainOnANewOne() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            AtomicInteger accepted = new AtomicInteger();
            Thread answering = new Thread(() -> answerOnceThenDropTheNext(server, accepted));
            answering.setDaemon(true);
            answering.start();
            HttpRegistryClient dropping = fixture.client(fixture.impatient(
                    URI.create("http://127.0.0.1:" + server.getLocalPort())));

            for (int i = 0; i < 2; i++) {
                assertArrayEquals("abc".getBytes(StandardCharsets.US_ASCII),
                        await(BodySubscriber.readAll(await(dropping.getBlob(ALPINE, SMALL_DIGEST))).result));
            }

            answering.join(10_000);
            assertEquals(2, accepted.get());
        }
    }

    /**
     * The first connection: answers one request with keep-alive, then closes on reading the next; the
     * second answers.
     */
    private static void answerOnceThenDropTheNext(ServerSocket server, AtomicInteger accepted) {
        byte[] answer = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc".getBytes(StandardCharsets.US_ASCII);
        try (Socket first = server.accept()) {
            accepted.incrementAndGet();
            readHead(first.getInputStream());
            first.getOutputStream().write(answer);
            first.getOutputStream().flush();
            readHead(first.getInputStream());
        } catch (IOException e) {
            return;
        }
        try (Socket second = server.accept()) {
            accepted.incrementAndGet();
            readHead(second.getInputStream());
            second.getOutputStream().write(answer);
            second.getOutputStream().flush();
            second.setSoTimeout(5_000);
            second.getInputStream().read();
        } catch (IOException e) {
            // the client's idle connection timed out or went with the test
        }
    }

    private static void readHead(InputStream in) throws IOException {
        int newlines = 0;
        int b;
        while (newlines < 2 && (b = in.read()) >= 0) {
            newlines = b == '\n' ? newlines + 1 : b == '\r' ? newlines : 0;
        }
    }

    /** Waits (at most 10 s) for {@code expected} connections to have ended at the forwarder. */
    private void awaitEnded(int expected) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (forwarder.ended() < expected && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(expected, forwarder.ended(), "connections ended");
    }
}
