package dev.regmirror.core.client;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static dev.regmirror.core.client.Payloads.ALPINE;
import static dev.regmirror.core.client.Payloads.LATEST;
import static dev.regmirror.core.client.Payloads.MANIFEST;
import static dev.regmirror.core.client.Payloads.MANIFEST_DIGEST;
import static dev.regmirror.core.client.Payloads.MANIFEST_PATH;
import static dev.regmirror.core.client.UpstreamFixture.await;
import static dev.regmirror.core.client.UpstreamFixture.failure;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.tomakehurst.wiremock.WireMockServer;
import dev.regmirror.core.error.UpstreamUnavailableException;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.testing.MutableClock;
import dev.regmirror.core.testing.TcpForwarder;
import dev.regmirror.core.upstream.EndpointSettings;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** HTTPS to an upstream with a private CA: trusted only through the CA file, host names always checked. */
class HttpRegistryClientTlsTest {

    @TempDir
    static Path directory;
    private static SelfSignedCertificate localhost;
    private static SelfSignedCertificate elsewhere;
    private static WireMockServer upstream;

    private final ExecutorService executor = Executors.newCachedThreadPool();
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();

    @BeforeAll
    static void start() throws Exception {
        localhost = SelfSignedCertificate.create(directory, "localhost", "ip:127.0.0.1,dns:localhost");
        elsewhere = SelfSignedCertificate.create(directory, "elsewhere", "dns:registry.elsewhere.example");
        upstream = https(localhost);
        upstream.stubFor(get(MANIFEST_PATH).willReturn(aResponse().withBody(MANIFEST)));
    }

    @AfterAll
    static void stop() {
        upstream.stop();
    }

    @AfterEach
    void close() {
        executor.shutdownNow();
        scheduler.shutdownNow();
    }

    private static WireMockServer https(SelfSignedCertificate certificate) {
        WireMockServer server = new WireMockServer(options().httpDisabled(true).dynamicHttpsPort()
                .keystorePath(certificate.keystore().toString()).keystoreType("PKCS12")
                .keystorePassword(SelfSignedCertificate.PASSWORD).keyManagerPassword(SelfSignedCertificate.PASSWORD));
        server.start();
        return server;
    }

    /** 300,000 random bytes that the upstream serves as a blob of library/alpine. */
    private static byte[] stubbedLayer(long seed) {
        byte[] layer = new byte[300_000];
        new java.util.Random(seed).nextBytes(layer);
        upstream.stubFor(get("/v2/library/alpine/blobs/" + Digest.sha256Of(layer)).willReturn(aResponse().withBody(layer)));
        return layer;
    }

    private static URI url(WireMockServer server) {
        return URI.create("https://localhost:" + server.httpsPort());
    }

    private HttpRegistryClient client(URI url, Optional<Path> caFile) {
        EndpointSettings settings = new EndpointSettings("registry.example", url, Optional.empty(), Optional.empty(),
                Duration.ofSeconds(5), Duration.ofSeconds(5), caFile, Optional.empty());
        return HttpRegistryClient.create(settings, executor, UpstreamFixture.BLOB_LOOPS, scheduler,
                new MutableClock());
    }

    @Test
    void privateCaIsNotTrustedWithoutTheCaFile() throws Exception {
        UpstreamUnavailableException e = failure(client(url(upstream), Optional.empty()).getManifest(ALPINE, LATEST),
                UpstreamUnavailableException.class);

        assertTrue(e.getMessage().startsWith("pull manifest latest of library/alpine from registry.example ("
                + url(upstream) + "): TLS failed: the certificate is not trusted"), e.getMessage());
    }

    @Test
    void privateCaIsTrustedThroughTheCaFile() throws Exception {
        assertEquals(MANIFEST_DIGEST, await(client(url(upstream), Optional.of(localhost.pem()))
                .getManifest(ALPINE, LATEST)).digest());

        upstream.verify(getRequestedFor(urlEqualTo(MANIFEST_PATH)));
    }

    @Test
    void certificateFromTheCaFileForAnotherHostIsRefused() throws Exception {
        WireMockServer impostor = https(elsewhere);
        try {
            UpstreamUnavailableException e = failure(client(url(impostor), Optional.of(elsewhere.pem()))
                    .getManifest(ALPINE, LATEST), UpstreamUnavailableException.class);

            assertTrue(e.getMessage().contains("TLS failed: the certificate was refused: "
                    + "No subject alternative DNS name matching localhost"), e.getMessage());
        } finally {
            impostor.stop();
        }
    }

    @Test
    void blobBodiesComeOverTlsTrustedThroughTheCaFile() throws Exception {
        byte[] layer = stubbedLayer(3);
        Digest digest = Digest.sha256Of(layer);

        BodySubscriber body = BodySubscriber.readAll(await(client(url(upstream), Optional.of(localhost.pem()))
                .getBlob(ALPINE, digest)));

        assertArrayEquals(layer, await(body.result));
        assertEquals(body.items.get(), body.direct.get());
    }

    @Test
    void blobsOverTlsShareOneConnection() throws Exception {
        byte[] layer = stubbedLayer(4);
        Digest digest = Digest.sha256Of(layer);
        try (TcpForwarder forwarder = new TcpForwarder(upstream.httpsPort())) {
            HttpRegistryClient client = client(URI.create("https://localhost:" + forwarder.port()),
                    Optional.of(localhost.pem()));

            for (int i = 0; i < 3; i++) {
                assertArrayEquals(layer, await(BodySubscriber.readAll(await(client.getBlob(ALPINE, digest))).result));
            }

            assertEquals(1, forwarder.connections());
        }
    }

    @Test
    void blobsThroughAConnectTunnelShareOneTunnel() throws Exception {
        byte[] layer = stubbedLayer(5);
        Digest digest = Digest.sha256Of(layer);
        try (TcpForwarder proxy = TcpForwarder.tunnel(upstream.httpsPort())) {
            EndpointSettings settings = new EndpointSettings("registry.example", url(upstream), Optional.empty(),
                    Optional.empty(), Duration.ofSeconds(5), Duration.ofSeconds(5), Optional.of(localhost.pem()),
                    Optional.of(URI.create("http://127.0.0.1:" + proxy.port())));
            HttpRegistryClient client = HttpRegistryClient.create(settings, executor, UpstreamFixture.BLOB_LOOPS,
                    scheduler, new MutableClock());

            for (int i = 0; i < 3; i++) {
                assertArrayEquals(layer, await(BodySubscriber.readAll(await(client.getBlob(ALPINE, digest))).result));
            }

            assertEquals(1, proxy.connections());
        }
    }

    @Test
    void blobFromAnUntrustedOrMisnamedCertificateIsRefused() throws Exception {
        Digest digest = Digest.sha256Of(new byte[] {1});
        UpstreamUnavailableException untrusted = failure(client(url(upstream), Optional.empty())
                .getBlob(ALPINE, digest), UpstreamUnavailableException.class);
        assertTrue(untrusted.getMessage().startsWith("pull blob " + digest.shortForm() + " of library/alpine from "
                + "registry.example (" + url(upstream) + "): TLS failed: the certificate is not trusted"),
                untrusted.getMessage());

        WireMockServer impostor = https(elsewhere);
        try {
            UpstreamUnavailableException misnamed = failure(client(url(impostor), Optional.of(elsewhere.pem()))
                    .getBlob(ALPINE, digest), UpstreamUnavailableException.class);

            assertTrue(misnamed.getMessage().contains("TLS failed: the certificate was refused: "
                    + "No subject alternative DNS name matching localhost"), misnamed.getMessage());
        } finally {
            impostor.stop();
        }
    }

    @Test
    void caFileWithoutCertificatesIsRefusedNamingIt() throws Exception {
        Path garbage = Files.writeString(directory.resolve("garbage.pem"), "not a certificate\n");
        EndpointSettings settings = new EndpointSettings("registry.example", url(upstream), Optional.empty(),
                Optional.empty(), Duration.ofSeconds(5), Duration.ofSeconds(5), Optional.of(garbage), Optional.empty());

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> HttpRegistryClient.create(settings, executor, UpstreamFixture.BLOB_LOOPS, scheduler,
                        java.time.Clock.systemUTC()));

        assertTrue(e.getMessage().startsWith("CA file " + garbage), e.getMessage());
    }

    @Test
    void jvmCasStayTrustedBesidesTheCaFile() throws Exception {
        TrustManagerFactory jvm = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        jvm.init((KeyStore) null);
        List<X509Certificate> jvmCas = List.of(((X509TrustManager) jvm.getTrustManagers()[0]).getAcceptedIssuers());

        List<X509Certificate> trusted = List.of(ExtraTrust.of(localhost.pem()).getAcceptedIssuers());

        assertTrue(jvmCas.size() > 0, "the JVM trusts no CA");
        assertTrue(trusted.containsAll(jvmCas));
        assertEquals(jvmCas.size() + 1, trusted.size());
    }
}
