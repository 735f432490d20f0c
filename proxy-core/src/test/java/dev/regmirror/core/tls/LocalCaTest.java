package dev.regmirror.core.tls;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.regmirror.core.testing.MutableClock;
import java.nio.file.Path;
import java.security.cert.CertPathValidator;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Set;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.x509.AuthorityKeyIdentifier;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.SubjectKeyIdentifier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The local CA and its server certificates: what clients check, by the JDK's PKIX validator and by openssl. */
class LocalCaTest {

    private static final Instant NOW = Instant.parse("2024-05-01T10:00:00Z");
    private static final String SERVER_AUTH = "1.3.6.1.5.5.7.3.1";

    @TempDir
    Path directory;

    private final MutableClock clock = new MutableClock(NOW);
    private final ServerNames names = ServerNames.parse(List.of("mirror.lan", "localhost"), List.of("10.0.0.5", "::1"));

    @Test
    void theCaCertificateIsASelfSignedCaForTenYears() throws Exception {
        LocalCa ca = LocalCa.create("regmirror test CA", clock);
        X509Certificate certificate = ca.certificate();

        certificate.verify(certificate.getPublicKey());
        assertEquals("CN=regmirror test CA,O=regmirror", certificate.getSubjectX500Principal().getName());
        assertEquals(certificate.getSubjectX500Principal(), certificate.getIssuerX500Principal());
        assertEquals(0, certificate.getBasicConstraints(), "a CA that signs servers, no sub-CAs");
        boolean[] usage = certificate.getKeyUsage();
        assertTrue(usage[5] && usage[6], "keyCertSign and cRLSign");
        assertFalse(usage[0] || usage[2], "no digitalSignature or keyEncipherment");
        assertTrue(certificate.getCriticalExtensionOIDs().containsAll(Set.of("2.5.29.19", "2.5.29.15")));
        assertEquals(Date.from(NOW), certificate.getNotBefore());
        assertEquals(Date.from(NOW.plus(Duration.ofDays(3650))), certificate.getNotAfter());
        assertEquals("EC", certificate.getPublicKey().getAlgorithm());
        assertEquals(List.of(certificate), ca.material().chain());
    }

    @Test
    void aServerCertificateNamesEveryNameForServerAuthFor825Days() throws Exception {
        LocalCa ca = LocalCa.create("regmirror test CA", clock);
        TlsMaterial server = ca.issueServer(names);
        X509Certificate leaf = server.leaf();

        leaf.verify(ca.certificate().getPublicKey());
        assertEquals(List.of(leaf, ca.certificate()), server.chain());
        assertEquals("CN=mirror.lan,O=regmirror", leaf.getSubjectX500Principal().getName());
        assertEquals(ca.certificate().getSubjectX500Principal(), leaf.getIssuerX500Principal());
        assertEquals(List.of(List.of(2, "mirror.lan"), List.of(2, "localhost"), List.of(7, "10.0.0.5"),
                List.of(7, "0:0:0:0:0:0:0:1")), List.copyOf(leaf.getSubjectAlternativeNames()));
        assertEquals(List.of(SERVER_AUTH), leaf.getExtendedKeyUsage());
        boolean[] usage = leaf.getKeyUsage();
        assertTrue(usage[0], "digitalSignature");
        assertFalse(usage[2] || usage[5], "no keyEncipherment for an EC key, no keyCertSign");
        assertEquals(-1, leaf.getBasicConstraints(), "not a CA");
        assertEquals(Date.from(NOW), leaf.getNotBefore());
        assertEquals(Date.from(NOW.plus(Duration.ofDays(825))), leaf.getNotAfter());
        assertArrayEquals(keyIdentifier(ca.certificate()), authorityKeyIdentifier(leaf));
        assertFalse(leaf.getSerialNumber().equals(ca.issueServer(names).leaf().getSerialNumber()));
    }

    @Test
    void anRsaServerKeyMayAlsoEncipher() throws Exception {
        LocalCa ca = LocalCa.create("regmirror test CA", clock);
        X509Certificate leaf = ca.issueServer(names, TestPem.rsa()).leaf();
        assertTrue(leaf.getKeyUsage()[0] && leaf.getKeyUsage()[2], "digitalSignature and keyEncipherment");
        assertEquals("SHA256withECDSA", leaf.getSigAlgName(), "signed by the EC CA");
    }

    @Test
    void theChainValidatesAgainstItsCaOnlyAndWithinItsValidity() throws Exception {
        LocalCa ca = LocalCa.create("regmirror test CA", clock);
        X509Certificate leaf = ca.issueServer(names).leaf();

        validate(leaf, ca.certificate(), NOW.plus(Duration.ofDays(1)));

        LocalCa other = LocalCa.create("regmirror test CA", clock);
        assertThrows(CertPathValidatorException.class, () -> validate(leaf, other.certificate(), NOW.plus(Duration.ofDays(1))));
        assertThrows(CertPathValidatorException.class, () -> validate(leaf, ca.certificate(), NOW.plus(Duration.ofDays(826))));
    }

    @Test
    void opensslAcceptsTheServerCertificateForItsNamesAndPurpose() throws Exception {
        assumeTrue(Openssl.available(), "openssl is not installed");
        LocalCa ca = LocalCa.create("regmirror test CA", Clock.systemUTC());
        TlsMaterial server = ca.issueServer(names);
        PemFiles.write(ca.material(), directory.resolve("ca.crt"), directory.resolve("ca.key"), false);
        PemFiles.write(server, directory.resolve("server.crt"), directory.resolve("server.key"), false);

        for (List<String> check : List.of(List.of("-verify_hostname", "mirror.lan"), List.of("-verify_ip", "10.0.0.5"))) {
            String verdict = Openssl.run(directory, "verify", "-CAfile", "ca.crt", "-purpose", "sslserver", check.get(0),
                    check.get(1), "server.crt");
            assertEquals("server.crt: OK\n", verdict);
        }
        Openssl.Result wrongName = Openssl.attempt(directory, "verify", "-CAfile", "ca.crt", "-verify_hostname",
                "elsewhere.lan", "server.crt");
        assertEquals(2, wrongName.exitCode(), wrongName.output());
        assertTrue(wrongName.output().contains("hostname mismatch"), wrongName.output());
    }

    private static void validate(X509Certificate leaf, X509Certificate anchor, Instant at) throws Exception {
        PKIXParameters parameters = new PKIXParameters(Set.of(new TrustAnchor(anchor, null)));
        parameters.setRevocationEnabled(false);
        parameters.setDate(Date.from(at));
        CertPathValidator.getInstance("PKIX").validate(
                CertificateFactory.getInstance("X.509").generateCertPath(List.of(leaf)), parameters);
    }

    private static byte[] keyIdentifier(X509Certificate certificate) {
        return SubjectKeyIdentifier.getInstance(ASN1OctetString.getInstance(
                certificate.getExtensionValue(Extension.subjectKeyIdentifier.getId())).getOctets()).getKeyIdentifier();
    }

    private static byte[] authorityKeyIdentifier(X509Certificate certificate) {
        return AuthorityKeyIdentifier.getInstance(ASN1OctetString.getInstance(
                certificate.getExtensionValue(Extension.authorityKeyIdentifier.getId())).getOctets()).getKeyIdentifierOctets();
    }
}
