package dev.regmirror.core.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.regmirror.core.testing.MutableClock;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** TLS material holds together, and describes its leaf as openssl would. */
class TlsMaterialTest {

    @TempDir
    Path directory;

    private final MutableClock clock = new MutableClock();
    private final LocalCa ca = LocalCa.create("test CA", clock);
    private final TlsMaterial server = ca.issueServer(ServerNames.parse(List.of("localhost"), List.of("127.0.0.1")));

    @Test
    void describesTheLeafWithOpensslsFingerprint() throws Exception {
        assumeTrue(Openssl.available(), "openssl is not installed");
        PemFiles.write(server, directory.resolve("server.crt"), directory.resolve("server.key"), false);
        String printed = Openssl.run(directory, "x509", "-noout", "-fingerprint", "-sha256", "-in", "server.crt").strip();
        String fingerprint = printed.substring(printed.indexOf('=') + 1);

        assertEquals("CN=localhost,O=regmirror (DNS:localhost, IP:127.0.0.1), expires 2026-08-04T10:00:00Z, SHA-256 "
                + fingerprint, server.describeLeaf());
    }

    @Test
    void theKeyMustBelongToTheFirstCertificate() {
        TlsMaterial other = ca.issueServer(ServerNames.parse(List.of("other.lan"), List.of()));
        IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
                () -> new TlsMaterial(other.key(), server.chain()));
        assertEquals("the key does not belong to the first certificate of the chain, CN=localhost,O=regmirror",
                refused.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new TlsMaterial(server.key(), List.of()));
        assertThrows(IllegalArgumentException.class,
                () -> new TlsMaterial(server.key(), List.of(server.chain().get(1), server.leaf())));
    }

    @Test
    void theChainCannotChangeAfterwards() {
        List<java.security.cert.X509Certificate> chain = new ArrayList<>(server.chain());
        TlsMaterial material = new TlsMaterial(server.key(), chain);
        chain.clear();
        assertEquals(2, material.chain().size());
        assertThrows(UnsupportedOperationException.class, () -> material.chain().clear());
    }
}
