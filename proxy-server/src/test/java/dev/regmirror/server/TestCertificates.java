package dev.regmirror.server;

import dev.regmirror.core.testing.TestCredentials;
import dev.regmirror.core.tls.LocalCa;
import dev.regmirror.core.tls.PemFiles;
import dev.regmirror.core.tls.ServerNames;
import dev.regmirror.core.tls.TlsMaterial;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.List;
import javax.net.ssl.SSLContext;

/**
 * A local CA, as {@code regmirror tls init} makes one, and server certificates it issues for
 * {@code localhost} and {@code 127.0.0.1}: PEM files for the mirror, the CA in a {@code certs.d}
 * style directory for skopeo, and an SSL context that trusts only this CA for the JDK client.
 */
final class TestCertificates {

    private final LocalCa ca;
    private final Path dir;

    TestCertificates(Path dir, String name) throws IOException {
        this.dir = Files.createDirectories(dir);
        this.ca = LocalCa.create(name, Clock.systemUTC());
        PemFiles.write(ca.material(), caFile(), dir.resolve("ca.key"), false);
        Files.createDirectories(certDir());
        Files.copy(caFile(), certDir().resolve("ca.crt"));
    }

    Path caFile() {
        return dir.resolve("ca.crt");
    }

    /** A directory with only {@code ca.crt}: what skopeo's {@code --src-cert-dir} and Docker's certs.d take. */
    Path certDir() {
        return dir.resolve("certs.d");
    }

    X509Certificate caCertificate() {
        return ca.certificate();
    }

    /** Issues a server certificate and writes its chain and key to these files (replacing them). */
    TlsMaterial issue(Path chain, Path key) throws IOException {
        TlsMaterial server = ca.issueServer(new ServerNames(List.of("localhost"),
                List.of(InetAddress.getByName("127.0.0.1"))));
        PemFiles.write(server, chain, key, true);
        return server;
    }

    /** A client context that trusts this CA and nothing else. */
    SSLContext clientContext() throws Exception {
        return TestCredentials.trusting(ca.certificate());
    }
}
