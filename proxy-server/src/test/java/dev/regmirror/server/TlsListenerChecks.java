package dev.regmirror.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.regmirror.core.config.SettingsException;
import dev.regmirror.core.manifest.MediaTypes;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.testing.BuiltImage;
import dev.regmirror.core.testing.RegistryProcess;
import dev.regmirror.core.testing.Skopeo;
import dev.regmirror.core.testing.TestImages;
import java.io.InputStream;
import java.io.OutputStream;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The registry API over TLS, as clients that verify certificates use it: a TLS listener beside the
 * plain one, its certificate from a local CA, skopeo pulling with verification on (and refusing a
 * mirror its CA did not sign), curl and the JDK client over HTTP/2 (many streams on one
 * connection; a stalled stream does not hold the others), a certificate rotated during a transfer,
 * and garbage on the TLS port. Run once per TLS provider ({@link TlsOpenSslIT}, {@link TlsJdkIT}).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class TlsListenerChecks {

    @TempDir
    static Path work; // each subclass runs on its own, with a directory of its own

    private RegistryProcess upstream;
    private Skopeo skopeo;
    private MirrorFixture mirror;
    private TestCertificates certificates;
    private BuiltImage image;
    private byte[] large;
    private Path chain;
    private Path key;

    /** {@code regmirror.server.tls-provider}: openssl or jdk. */
    abstract String provider();

    @BeforeAll
    void start() throws Exception {
        upstream = RegistryProcess.start();
        skopeo = new Skopeo();
        image = TestImages.singleArch(work.resolve("image"), "1.0", 3, 300_000, 61);
        skopeo.copy(image.source(), "docker://" + upstream.hostPort() + "/library/app:1.0");
        large = new byte[48 * 1024 * 1024];
        new Random(62).nextBytes(large);
        AdminIT.upload(upstream.url(), "library/large", large);
        certificates = new TestCertificates(work.resolve("ca"), "regmirror test CA");
        chain = work.resolve("server.crt");
        key = work.resolve("server.key");
        certificates.issue(chain, key);
        mirror = MirrorFixture.start(upstream.url(), work.resolve("cache"), tls(chain, key));
    }

    private Map<String, Object> tls(Path chain, Path key) {
        Map<String, Object> settings = new HashMap<>();
        settings.put("regmirror.server.tls-provider", provider());
        settings.put("regmirror.server.listeners.https.port", 0);
        settings.put("regmirror.server.listeners.https.tls.certificate", chain.toString());
        settings.put("regmirror.server.listeners.https.tls.private-key", key.toString());
        settings.put("regmirror.server.tls-reload-interval", "200ms");
        settings.put("regmirror.admin.tls.certificate", chain.toString());
        settings.put("regmirror.admin.tls.private-key", key.toString());
        return settings;
    }

    @AfterAll
    void stop() {
        if (mirror != null) {
            mirror.close();
        }
        if (skopeo != null) {
            skopeo.close();
        }
        if (upstream != null) {
            upstream.close();
        }
    }

    private String https() {
        return "127.0.0.1:" + mirror.port("https");
    }

    private URI uri(String path) {
        return URI.create("https://" + https() + path);
    }

    private HttpClient client(HttpClient.Version version) throws Exception {
        return HttpClient.newBuilder().version(version).sslContext(certificates.clientContext())
                .connectTimeout(Duration.ofSeconds(5)).build();
    }

    @Test
    void skopeoPullsWithVerificationAndRefusesAMirrorItsCaDidNotSign() throws Exception {
        Path pulled = work.resolve("pulled-tls");
        skopeo.copy("docker://" + https() + "/app:1.0", "dir:" + pulled, "--src-tls-verify=true",
                "--src-cert-dir", certificates.certDir().toString());
        assertEquals(image.digest(), Digest.sha256Of(Files.readAllBytes(pulled.resolve("manifest.json"))));
        for (var blob : image.blobs()) {
            assertEquals(blob.digest(), Digest.sha256Of(Files.readAllBytes(pulled.resolve(blob.digest().hex()))));
        }

        TestCertificates other = new TestCertificates(work.resolve("other-ca"), "another CA");
        IllegalStateException refused = assertThrows(IllegalStateException.class, () -> skopeo.copy(
                "docker://" + https() + "/app:1.0", "dir:" + work.resolve("pulled-wrong-ca"), "--src-tls-verify=true",
                "--src-cert-dir", other.certDir().toString()));
        assertTrue(refused.getMessage().contains("certificate signed by unknown authority"), refused.getMessage());
    }

    @Test
    void curlTakesABlobAndAManifestOverHttp2() throws Exception {
        Digest layer = image.layers().get(0).digest();
        Path out = work.resolve("curl-blob");
        Process curl = new ProcessBuilder("curl", "-sS", "--http2", "--cacert", certificates.caFile().toString(),
                "-o", out.toString(), "-w", "%{http_version} %{http_code}",
                "https://" + https() + "/v2/library/app/blobs/" + layer).redirectErrorStream(true).start();
        assertTrue(curl.waitFor(30, TimeUnit.SECONDS));
        assertEquals("2 200", new String(curl.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
        assertEquals(layer, Digest.sha256Of(Files.readAllBytes(out)));

        Process manifest = new ProcessBuilder("curl", "-sS", "--http2", "--cacert", certificates.caFile().toString(),
                "-H", "Accept: " + MediaTypes.ACCEPT_ALL_HEADER, "-o", work.resolve("curl-manifest").toString(),
                "-w", "%{http_version} %{http_code}", "https://" + https() + "/v2/library/app/manifests/1.0")
                .redirectErrorStream(true).start();
        assertTrue(manifest.waitFor(30, TimeUnit.SECONDS));
        assertEquals("2 200", new String(manifest.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
        assertEquals(image.digest(), Digest.sha256Of(Files.readAllBytes(work.resolve("curl-manifest"))));
    }

    @Test
    void aStalledStreamDoesNotHoldTheOtherStreamsOfItsConnection() throws Exception {
        HttpClient http = client(HttpClient.Version.HTTP_2);
        Digest largeDigest = Digest.sha256Of(large);
        HttpResponse<InputStream> stalled = http.send(HttpRequest.newBuilder(uri("/v2/library/large/blobs/"
                + largeDigest)).build(), HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(HttpClient.Version.HTTP_2, stalled.version());
        assertEquals(200, stalled.statusCode());
        // Not read: the client stops granting this stream window, and the server's sends on it wait.

        List<CompletableFuture<HttpResponse<byte[]>>> others = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            var blob = image.blobs().get(i % image.blobs().size());
            others.add(http.sendAsync(HttpRequest.newBuilder(uri("/v2/library/app/blobs/" + blob.digest())).build(),
                    HttpResponse.BodyHandlers.ofByteArray()));
        }
        for (int i = 0; i < others.size(); i++) {
            HttpResponse<byte[]> response = others.get(i).get(20, TimeUnit.SECONDS);
            assertEquals(HttpClient.Version.HTTP_2, response.version());
            assertEquals(image.blobs().get(i % image.blobs().size()).digest(), Digest.sha256Of(response.body()));
        }

        try (InputStream body = stalled.body()) {
            assertEquals(largeDigest, Digest.sha256Of(body.readAllBytes()), "the stalled stream ends whole");
        }
    }

    @Test
    void aRotatedCertificateServesNewHandshakesWhileATransferOnTheOldOneFinishes() throws Exception {
        BigInteger before = servedCertificate().getSerialNumber();
        HttpClient http = client(HttpClient.Version.HTTP_1_1);
        HttpResponse<InputStream> transfer = http.send(HttpRequest.newBuilder(uri("/v2/library/large/blobs/"
                + Digest.sha256Of(large))).build(), HttpResponse.BodyHandlers.ofInputStream());
        try (InputStream body = transfer.body()) {
            byte[] first = body.readNBytes(1024 * 1024);

            certificates.issue(chain, key);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
            BigInteger after = before;
            while (after.equals(before) && System.nanoTime() < deadline) {
                Thread.sleep(100);
                after = servedCertificate().getSerialNumber();
            }
            assertNotEquals(before, after, "a new handshake gets the new certificate");

            byte[] rest = body.readAllBytes();
            byte[] whole = new byte[first.length + rest.length];
            System.arraycopy(first, 0, whole, 0, first.length);
            System.arraycopy(rest, 0, whole, first.length, rest.length);
            assertArrayEquals(large, whole, "the transfer begun on the old certificate finishes whole");
        }
    }

    /** The certificate a fresh handshake with the TLS listener presents. */
    private X509Certificate servedCertificate() throws Exception {
        try (SSLSocket socket = (SSLSocket) certificates.clientContext().getSocketFactory()
                .createSocket("127.0.0.1", mirror.port("https"))) {
            socket.startHandshake();
            return (X509Certificate) socket.getSession().getPeerCertificates()[0];
        }
    }

    @Test
    void theAdminApiServesOverTlsToo() throws Exception {
        HttpResponse<String> usage = client(HttpClient.Version.HTTP_2).send(HttpRequest.newBuilder(
                URI.create("https://127.0.0.1:" + mirror.adminPort() + "/admin/usage")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, usage.statusCode(), usage.body());
        assertEquals(HttpClient.Version.HTTP_2, usage.version());
        assertTrue(usage.body().contains("\"totalBytes\""), usage.body());
    }

    @Test
    void plaintextAndGarbageOnTheTlsPortAreClosedAndOthersServed() throws Exception {
        byte[] garbage = new byte[4096];
        new Random(63).nextBytes(garbage);
        garbage[0] = 0x16; // a TLS handshake record type, then nonsense
        for (byte[] bytes : List.of("GET /v2/ HTTP/1.1\r\nHost: mirror\r\n\r\n".getBytes(StandardCharsets.US_ASCII),
                garbage)) {
            try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), mirror.port("https"))) {
                socket.setSoTimeout(10_000);
                OutputStream out = socket.getOutputStream();
                out.write(bytes);
                out.flush();
                InputStream in = socket.getInputStream();
                byte[] buffer = new byte[8192];
                try {
                    while (in.read(buffer) >= 0) {
                        // whatever the server says before it closes (a TLS alert), until it closes
                    }
                } catch (java.net.SocketException reset) {
                    // closed with a reset: closed all the same, and not left waiting
                }
            }
        }
        HttpResponse<String> fine = client(HttpClient.Version.HTTP_1_1).send(HttpRequest.newBuilder(uri("/v2/")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, fine.statusCode());
    }

    @Test
    void filesThatCannotServeStopStartUpNamingTheSetting() throws Exception {
        Path elsewhere = work.resolve("elsewhere");
        Files.createDirectories(elsewhere);
        Map<String, Object> missing = tls(elsewhere.resolve("nope.crt"), key);
        SettingsException noFile = assertThrows(SettingsException.class,
                () -> MirrorFixture.start(upstream.url(), work.resolve("cache-missing"), missing).close());
        assertTrue(noFile.getMessage().startsWith("regmirror.server.listeners.https.tls.certificate: "),
                noFile.getMessage());

        Path otherKey = elsewhere.resolve("other.key");
        new TestCertificates(elsewhere.resolve("ca"), "a third CA").issue(elsewhere.resolve("other.crt"), otherKey);
        SettingsException mismatch = assertThrows(SettingsException.class,
                () -> MirrorFixture.start(upstream.url(), work.resolve("cache-mismatch"), tls(chain, otherKey)).close());
        assertTrue(mismatch.getMessage().startsWith("regmirror.server.listeners.https.tls.private-key: "),
                mismatch.getMessage());
        assertEquals(1, mismatch.getMessage().lines().count());
    }
}
