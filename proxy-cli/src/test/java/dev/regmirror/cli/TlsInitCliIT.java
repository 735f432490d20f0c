package dev.regmirror.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import dev.regmirror.core.tls.SettingFile;
import dev.regmirror.core.tls.TlsMaterial;
import dev.regmirror.core.tls.TlsMaterialLoader;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code regmirror tls init}, the built jar run as a user runs it: what it prints, and that its files,
 * read by regmirror's loader, serve HTTPS that curl and the JDK's client accept through ca.crt alone.
 */
class TlsInitCliIT {

    private static final String BODY = "hello over TLS\n";

    @TempDir
    Path work;

    @Test
    void theFilesServeHttpsThatClientsTrustThroughTheCaAlone() throws Exception {
        int port = RegmirrorProcess.freePort();
        Path tls = work.resolve("tls");
        RegmirrorProcess.Finished init = init("tls", port);
        assertEquals(0, init.exitCode(), init.output());

        List<X509Certificate> chain = certificates(tls.resolve("server.crt"));
        X509Certificate ca = certificates(tls.resolve("ca.crt")).get(0);
        assertEquals(List.of(ca), chain.subList(1, chain.size()), "server.crt: the server's certificate, then the CA's");
        assertEquals(expectedOutput(tls, port, ca, chain.get(0)), init.output());
        assertEquals("rw-------", permissions(tls.resolve("server.key")));
        assertEquals("rw-------", permissions(tls.resolve("ca.key")));
        assertEquals("rw-r--r--", permissions(tls.resolve("server.crt")));

        TlsMaterial material = new TlsMaterialLoader(Clock.systemUTC()).load(
                new SettingFile("regmirror.server.tls.certificate", tls.resolve("server.crt")),
                new SettingFile("regmirror.server.tls.private-key", tls.resolve("server.key")));
        HttpsServer server = serve(material, port);
        try {
            String base = "https://127.0.0.1:" + port + "/";
            Path caFile = tls.resolve("ca.crt");
            curl("--cacert", caFile.toString(), base).assertServed();
            curl("--cacert", caFile.toString(), "--resolve", "localhost:" + port + ":127.0.0.1",
                    "https://localhost:" + port + "/").assertServed();
            curl("--cacert", caFile.toString(), "--resolve", "elsewhere.lan:" + port + ":127.0.0.1",
                    "https://elsewhere.lan:" + port + "/").assertUnverified("a name the certificate does not list");
            curl(base).assertUnverified("without ca.crt: the system's CAs do not know this one");

            HttpResponse<String> answer = client(caFile).send(HttpRequest.newBuilder(URI.create(base)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, answer.statusCode());
            assertEquals(BODY, answer.body());

            RegmirrorProcess.Finished other = init("other", port);
            assertEquals(0, other.exitCode(), other.output());
            Path otherCa = work.resolve("other/ca.crt");
            curl("--cacert", otherCa.toString(), base).assertUnverified("another tls init's CA");
            assertThrows(SSLHandshakeException.class, () -> client(otherCa).send(
                    HttpRequest.newBuilder(URI.create(base)).build(), HttpResponse.BodyHandlers.ofString()));
        } finally {
            server.stop(0);
        }
    }

    @Test
    void refusesToReplaceFilesUnlessForced() throws Exception {
        assertEquals(0, init("tls", 5443).exitCode());
        Path caFile = work.resolve("tls/ca.crt");
        String firstCa = Files.readString(caFile);

        RegmirrorProcess.Finished again = init("tls", 5443);
        assertEquals(1, again.exitCode(), again.output());
        Path tls = work.resolve("tls");
        assertEquals("regmirror: " + tls.resolve("ca.crt") + ", " + tls.resolve("ca.key") + ", " + tls.resolve("server.crt")
                + ", " + tls.resolve("server.key") + " already exist; add --force to replace\n", again.output());
        assertEquals(firstCa, Files.readString(caFile));

        RegmirrorProcess.Finished forced = RegmirrorProcess.run(work, List.of(), "tls", "init", "--host", "localhost",
                "--dir", "tls", "--force");
        assertEquals(0, forced.exitCode(), forced.output());
        assertNotEquals(firstCa, Files.readString(caFile));
    }

    @Test
    void namesAreRequiredAndChecked() throws Exception {
        RegmirrorProcess.Finished none = RegmirrorProcess.run(work, List.of(), "tls", "init", "--dir", "tls");
        assertEquals(2, none.exitCode(), none.output());
        assertEquals("regmirror: tls init needs at least one --host NAME or --ip ADDRESS: the names clients use for "
                + "the mirror\n", none.output());
        RegmirrorProcess.Finished withPort = RegmirrorProcess.run(work, List.of(), "tls", "init", "--host", "mirror.lan:5443");
        assertEquals(2, withPort.exitCode(), withPort.output());
        assertEquals("regmirror: --host mirror.lan:5443: give the name alone, and the port with --port\n", withPort.output());
        RegmirrorProcess.Finished badIp = RegmirrorProcess.run(work, List.of(), "tls", "init", "--ip", "mirror.lan");
        assertEquals(2, badIp.exitCode(), badIp.output());
        assertEquals("regmirror: not an IP address: \"mirror.lan\"\n", badIp.output());
        assertTrue(Files.notExists(work.resolve("tls")), "nothing written");
    }

    private RegmirrorProcess.Finished init(String dir, int port) throws Exception {
        return RegmirrorProcess.run(work, List.of(), "tls", "init", "--host", "localhost", "--ip", "127.0.0.1",
                "--dir", dir, "--port", Integer.toString(port));
    }

    private static String expectedOutput(Path tls, int port, X509Certificate ca, X509Certificate server) {
        String localhost = "localhost:" + port;
        String loopback = "127.0.0.1:" + port;
        return """
                Wrote a CA and a server certificate for localhost, 127.0.0.1 to %1$s:
                  ca.crt      the CA's certificate, valid until %2$s: clients trust the mirror through it
                  ca.key      the CA's private key (mode 0600): whoever has it can make certificates your clients trust; keep it off the clients
                  server.crt  the server's certificate, valid until %3$s, followed by the CA's
                  server.key  the server's private key (mode 0600)

                For regmirror, in conf/application.conf (then restart it):

                  regmirror.server.tls.certificate = "%1$s/server.crt"
                  regmirror.server.tls.private-key = "%1$s/server.key"

                Clients: each needs ca.crt, in its own place for each name it uses for the mirror.

                Docker (read at each pull, no restart):
                  /etc/docker/certs.d/%4$s/ca.crt
                  /etc/docker/certs.d/%5$s/ca.crt

                containerd: ca.crt, and a hosts.toml that names it, in the same directory:
                  /etc/containerd/certs.d/%4$s/hosts.toml:
                    server = "https://%4$s"

                    [host."https://%4$s"]
                      ca = "/etc/containerd/certs.d/%4$s/ca.crt"
                  /etc/containerd/certs.d/%5$s/hosts.toml:
                    server = "https://%5$s"

                    [host."https://%5$s"]
                      ca = "/etc/containerd/certs.d/%5$s/ca.crt"
                  (where the mirror is a [host."https://%4$s"] block in another registry's hosts.toml, add the same ca line there)

                podman, CRI-O, buildah, skopeo:
                  /etc/containers/certs.d/%4$s/ca.crt
                  /etc/containers/certs.d/%5$s/ca.crt

                The system's trust store (curl and most other programs), on Debian and Ubuntu:
                  sudo cp %1$s/ca.crt /usr/local/share/ca-certificates/regmirror-ca.crt
                  sudo update-ca-certificates
                """.formatted(tls, date(ca), date(server), localhost, loopback);
    }

    private static String date(X509Certificate certificate) {
        return certificate.getNotAfter().toInstant().atOffset(ZoneOffset.UTC).toLocalDate().toString();
    }

    /** A JDK HTTPS server on 127.0.0.1:{@code port} with the loaded key and chain, answering {@link #BODY}. */
    private static HttpsServer serve(TlsMaterial material, int port) throws Exception {
        char[] password = "unused".toCharArray();
        KeyStore keys = KeyStore.getInstance("PKCS12");
        keys.load(null, null);
        keys.setKeyEntry("server", material.key(), password, material.chain().toArray(X509Certificate[]::new));
        KeyManagerFactory managers = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        managers.init(keys, password);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(managers.getKeyManagers(), null, null);
        HttpsServer server = HttpsServer.create(new InetSocketAddress("127.0.0.1", port), 0);
        server.setHttpsConfigurator(new HttpsConfigurator(context));
        server.createContext("/", exchange -> {
            byte[] body = BODY.getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
        return server;
    }

    /** The JDK's HTTP client trusting the certificates of {@code caFile} and nothing else. */
    private static HttpClient client(Path caFile) throws Exception {
        KeyStore trusted = KeyStore.getInstance("PKCS12");
        trusted.load(null, null);
        trusted.setCertificateEntry("ca", certificates(caFile).get(0));
        TrustManagerFactory managers = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        managers.init(trusted);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, managers.getTrustManagers(), null);
        return HttpClient.newBuilder().sslContext(context).connectTimeout(Duration.ofSeconds(10)).build();
    }

    private static List<X509Certificate> certificates(Path file) throws Exception {
        try (InputStream in = Files.newInputStream(file)) {
            List<X509Certificate> certificates = new ArrayList<>();
            CertificateFactory.getInstance("X.509").generateCertificates(in)
                    .forEach(certificate -> certificates.add((X509Certificate) certificate));
            return certificates;
        }
    }

    private static String permissions(Path file) throws IOException {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(file));
    }

    /** {@code curl -sS --max-time 20 <arguments>}, run as a user runs it. */
    private Curl curl(String... arguments) throws Exception {
        List<String> command = new ArrayList<>(List.of("curl", "-sS", "--max-time", "20"));
        command.addAll(List.of(arguments));
        Path errors = Files.createTempFile(work, "curl-", ".err");
        Process process;
        try {
            process = new ProcessBuilder(command).redirectError(errors.toFile()).start();
        } catch (IOException e) {
            throw new IllegalStateException("this test needs curl on the PATH, a TLS client that verifies as users' do", e);
        }
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IllegalStateException(String.join(" ", command) + " did not exit within 30 s");
        }
        return new Curl(process.exitValue(), output, Files.readString(errors));
    }

    /** How a curl run ended: its exit code, standard output and standard error. */
    private record Curl(int exitCode, String output, String errors) {

        void assertServed() {
            assertEquals(0, exitCode, errors);
            assertEquals(BODY, output);
        }

        /** Exit code 60: curl could not verify the server's certificate. */
        void assertUnverified(String why) {
            assertEquals(60, exitCode, why + ": " + errors);
        }
    }
}
