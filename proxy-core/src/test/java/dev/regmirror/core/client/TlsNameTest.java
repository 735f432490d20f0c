package dev.regmirror.core.client;

import static dev.regmirror.core.client.UpstreamFixture.await;
import static dev.regmirror.core.client.UpstreamFixture.failure;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.regmirror.core.error.UpstreamUnavailableException;
import dev.regmirror.core.upstream.Credentials;
import dev.regmirror.core.upstream.EndpointSettings;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SNIMatcher;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An endpoint's {@code tlsName}: the client connects to an address (127.0.0.1) and checks the
 * certificate against the name instead, sending it as SNI; a certificate that is not valid for the
 * name ends the connection in the handshake, before any byte of the request (its Authorization
 * among them) is sent.
 */
class TlsNameTest {

    private static final String NAME = "nodes.example.test";

    @TempDir
    static Path directory;
    private static SelfSignedCertificate certificate;
    private static TlsServer server;

    private final ExecutorService executor = Executors.newCachedThreadPool();
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();

    @BeforeAll
    static void start() throws Exception {
        certificate = SelfSignedCertificate.create(directory, "nodes", "dns:" + NAME);
        server = new TlsServer(certificate);
    }

    @AfterAll
    static void stop() throws IOException {
        server.close();
    }

    @AfterEach
    void close() {
        executor.shutdownNow();
        scheduler.shutdownNow();
        server.requests.clear();
        server.serverNames.clear();
    }

    private WholeBodyClient client(Optional<String> tlsName) {
        EndpointSettings settings = new EndpointSettings("node", URI.create("https://127.0.0.1:" + server.port()),
                Optional.of(new Credentials("regmirror-node", "the-secret-0123456789")), Optional.empty(),
                Duration.ofSeconds(5), Duration.ofSeconds(5), Optional.of(certificate.pem()), Optional.empty(),
                tlsName);
        return new WholeBodyClient(settings, UpstreamFixture.BLOB_LOOPS, executor, scheduler);
    }

    @Test
    void theCertificateIsCheckedAgainstTheNameAndTheNameIsSentAsSni() throws Exception {
        WholeBodyClient.Response response = await(client(Optional.of(NAME)).get("/health", "check health", 1024));

        assertEquals(200, response.status());
        assertEquals("ok", new String(response.body(), StandardCharsets.UTF_8));
        assertEquals(List.of(NAME), server.serverNames);
        assertEquals(1, server.requests.size());
        assertTrue(server.requests.get(0).startsWith("GET /health HTTP/1.1\r\n"), server.requests.get(0));
        assertTrue(server.requests.get(0).contains("\r\nauthorization: Basic "), "credentials on the request itself");
    }

    @Test
    void withoutTheNameTheAddressIsCheckedAndTheRequestNeverSent() throws Exception {
        UpstreamUnavailableException e = failure(client(Optional.empty()).get("/health", "check health", 1024),
                UpstreamUnavailableException.class);

        assertTrue(e.getMessage().startsWith("check health from node (https://127.0.0.1:" + server.port()
                + "): TLS failed: the certificate was refused: No subject alternative names matching IP address "
                + "127.0.0.1"), e.getMessage());
        assertEquals(List.of(), server.requests, "nothing sent, the Authorization least of all");
    }

    @Test
    void aCertificateForAnotherNameIsRefusedBeforeTheRequestIsSent() throws Exception {
        UpstreamUnavailableException e = failure(client(Optional.of("other.example.test")).get("/health",
                "check health", 1024), UpstreamUnavailableException.class);

        assertTrue(e.getMessage().contains("TLS failed: the certificate was refused: No subject alternative DNS "
                + "name matching other.example.test"), e.getMessage());
        assertEquals(List.of("other.example.test"), server.serverNames, "the name was asked for");
        assertEquals(List.of(), server.requests, "nothing sent, the Authorization least of all");
    }

    /**
     * A TLS server of the JDK's on 127.0.0.1 that records the SNI of each handshake and the head of
     * each request it decrypts, and answers {@code 200 ok}.
     */
    private static final class TlsServer implements AutoCloseable {

        final List<String> serverNames = new CopyOnWriteArrayList<>();
        final List<String> requests = new CopyOnWriteArrayList<>();
        private final SSLServerSocket socket;

        TlsServer(SelfSignedCertificate certificate) throws Exception {
            KeyStore store = KeyStore.getInstance("PKCS12");
            try (InputStream in = java.nio.file.Files.newInputStream(certificate.keystore())) {
                store.load(in, SelfSignedCertificate.PASSWORD.toCharArray());
            }
            KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            keys.init(store, SelfSignedCertificate.PASSWORD.toCharArray());
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(keys.getKeyManagers(), null, null);
            socket = (SSLServerSocket) context.getServerSocketFactory().createServerSocket(0, 50,
                    InetAddress.getLoopbackAddress());
            SSLParameters parameters = socket.getSSLParameters();
            parameters.setSNIMatchers(List.of(new SNIMatcher(0) {
                @Override
                public boolean matches(SNIServerName name) {
                    serverNames.add(new String(name.getEncoded(), StandardCharsets.US_ASCII));
                    return true;
                }
            }));
            socket.setSSLParameters(parameters);
            Thread accepting = new Thread(this::accept, "tls-name-test-server");
            accepting.setDaemon(true);
            accepting.start();
        }

        int port() {
            return socket.getLocalPort();
        }

        private void accept() {
            while (!socket.isClosed()) {
                try (SSLSocket connection = (SSLSocket) socket.accept()) {
                    connection.setSoTimeout(5000);
                    InputStream in = connection.getInputStream();
                    ByteArrayOutputStream head = new ByteArrayOutputStream();
                    while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
                        int next = in.read();
                        if (next < 0) {
                            break;
                        }
                        head.write(next);
                    }
                    if (head.size() > 0) {
                        requests.add(head.toString(StandardCharsets.ISO_8859_1));
                        connection.getOutputStream().write(("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
                                + "Connection: close\r\n\r\nok").getBytes(StandardCharsets.US_ASCII));
                    }
                } catch (IOException refusedOrClosed) {
                    // a handshake the client refused, or the server closing
                }
            }
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}
