package dev.regmirror.core.tls;

import static dev.regmirror.core.tls.TlsMaterialLoaderTest.certificate;
import static dev.regmirror.core.tls.TlsMaterialLoaderTest.privateKey;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.regmirror.core.testing.MutableClock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPairGenerator;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every way TLS files can be unfit is refused with one line that names the setting to fix. */
class TlsMaterialLoaderErrorsTest {

    private static final Instant ISSUED = Instant.parse("2024-05-01T10:00:00Z");
    private static final String CERTIFICATE = "regmirror.server.tls.certificate";
    private static final String PRIVATE_KEY = "regmirror.server.tls.private-key";

    @TempDir
    Path directory;

    private final MutableClock clock = new MutableClock(ISSUED);
    private final LocalCa ca = LocalCa.create("test CA", clock);
    private final TlsMaterial server = ca.issueServer(ServerNames.parse(List.of("localhost"), List.of("127.0.0.1")));
    private Path chain;
    private Path key;

    @BeforeEach
    void writeGoodFiles() throws Exception {
        chain = directory.resolve("server.crt");
        key = directory.resolve("server.key");
        PemFiles.write(server, chain, key, false);
    }

    @Test
    void theGoodFilesLoad() throws Exception {
        assertEquals(server.chain(), load(chain, key).chain());
    }

    @Test
    void aMissingFileNamesItsSetting() {
        assertRefused(CERTIFICATE, CERTIFICATE + ": " + directory.resolve("nope.crt") + " does not exist",
                directory.resolve("nope.crt"), key);
        assertRefused(PRIVATE_KEY, PRIVATE_KEY + ": " + directory.resolve("nope.key") + " does not exist",
                chain, directory.resolve("nope.key"));
        assertRefused(CERTIFICATE, CERTIFICATE + ": " + directory + " is a directory, not a PEM file", directory, key);
    }

    @Test
    void anUnreadableFileIsRefused() throws Exception {
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("---------"));
        assumeFalse(Files.isReadable(key), "running as root: every file is readable");
        assertRefused(PRIVATE_KEY, PRIVATE_KEY + ": " + key + " cannot be read: permission denied", chain, key);
    }

    @Test
    void aFileWithoutACertificateIsRefused() throws Exception {
        byte[] binary = new byte[4096];
        new Random(7).nextBytes(binary);
        Path garbage = Files.write(directory.resolve("garbage.crt"), binary);
        String noCertificate = " holds no PEM certificate (-----BEGIN CERTIFICATE-----)";
        assertRefused(CERTIFICATE, CERTIFICATE + ": " + garbage + noCertificate, garbage, key);
        assertRefused(CERTIFICATE, CERTIFICATE + ": " + key + noCertificate, key, key);
        Path text = Files.writeString(directory.resolve("text.crt"), "hello\n");
        assertRefused(CERTIFICATE, CERTIFICATE + ": " + text + noCertificate, text, key);
    }

    @Test
    void aBrokenPemBlockIsRefused() throws Exception {
        Path broken = Files.writeString(directory.resolve("broken.crt"),
                "-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n");
        TlsMaterialException refused = assertThrows(TlsMaterialException.class, () -> load(broken, key));
        assertTrue(refused.getMessage().startsWith(CERTIFICATE + ": " + broken + " is not valid PEM: "), refused.getMessage());
        assertFalse(refused.getMessage().contains("\n"), refused.getMessage());
    }

    @Test
    void aKeyFileWithoutOneKeyIsRefused() throws Exception {
        assertRefused(PRIVATE_KEY, PRIVATE_KEY + ": " + chain + " holds no PEM private key (-----BEGIN PRIVATE KEY-----, "
                + "-----BEGIN RSA PRIVATE KEY----- or -----BEGIN EC PRIVATE KEY-----)", chain, chain);
        Path two = Files.writeString(directory.resolve("two.key"),
                Files.readString(key) + TestPem.pkcs8(TestPem.ec("secp256r1").getPrivate()));
        assertRefused(PRIVATE_KEY, PRIVATE_KEY + ": " + two + " holds 2 private keys; leave only the server's", chain, two);
    }

    @Test
    void anEncryptedKeyIsRefused() throws Exception {
        for (String text : List.of(TestPem.encryptedPkcs8(server.key()), TestPem.encryptedTraditional(server.key()))) {
            Path encrypted = Files.writeString(directory.resolve("encrypted.key"), text);
            assertRefused(PRIVATE_KEY, PRIVATE_KEY + ": " + encrypted + " holds an encrypted private key, and regmirror "
                    + "reads only unencrypted ones: decrypt it into a new file with openssl pkey -in " + encrypted
                    + " -out NEW.key (and keep that file mode 0600)", chain, encrypted);
        }
    }

    @Test
    void aKeyOpensslEncryptedIsRefused() throws Exception {
        assumeTrue(Openssl.available(), "openssl is not installed");
        Openssl.run(directory, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-aes256",
                "-pass", "pass:secret", "-out", "openssl.key");
        TlsMaterialException refused = assertThrows(TlsMaterialException.class,
                () -> load(chain, directory.resolve("openssl.key")));
        assertTrue(refused.getMessage().contains(" holds an encrypted private key"), refused.getMessage());
    }

    @Test
    void aKeyOfAnotherTypeIsRefused() throws Exception {
        Path ed25519 = Files.writeString(directory.resolve("ed.key"), TestPem.pkcs8(
                KeyPairGenerator.getInstance("Ed25519").generateKeyPair().getPrivate()));
        assertRefused(PRIVATE_KEY, PRIVATE_KEY + ": " + ed25519 + " holds a key of type ED25519; regmirror takes RSA and EC keys",
                chain, ed25519);
    }

    @Test
    void aKeyOfAnotherCertificateIsRefused() throws Exception {
        TlsMaterial other = ca.issueServer(ServerNames.parse(List.of("other.lan"), List.of()));
        Path otherKey = directory.resolve("other.key");
        PemFiles.write(other, directory.resolve("other.crt"), otherKey, false);
        assertRefused(PRIVATE_KEY, PRIVATE_KEY + ": " + otherKey + " holds a key that does not belong to the certificate "
                + "\"CN=localhost,O=regmirror\" of " + chain + " (" + CERTIFICATE + ")", chain, otherKey);
    }

    @Test
    void aChainInTheWrongOrderIsRefused() throws Exception {
        Path reversed = Files.writeString(directory.resolve("reversed.crt"),
                TestPem.certificates(List.of(server.chain().get(1), server.chain().get(0))));
        assertRefused(CERTIFICATE, CERTIFICATE + ": " + reversed + " starts with \"CN=test CA,O=regmirror\", but the key of "
                + key + " (" + PRIVATE_KEY + ") belongs to certificate 2, \"CN=localhost,O=regmirror\": the server's own "
                + "certificate comes first, then its CAs", reversed, key);
    }

    @Test
    void aCertificateOutsideItsValidityIsRefused() throws Exception {
        clock.advance(LocalCa.SERVER_VALIDITY.plusSeconds(1));
        assertRefused(CERTIFICATE, CERTIFICATE + ": " + chain + " holds the certificate \"CN=localhost,O=regmirror\", "
                + "which expired at 2026-08-04T10:00:00Z", chain, key);

        MutableClock early = new MutableClock(ISSUED.minus(Duration.ofMinutes(5)));
        TlsMaterialException refused = assertThrows(TlsMaterialException.class,
                () -> new TlsMaterialLoader(early).load(certificate(chain), privateKey(key)));
        assertEquals(CERTIFICATE + ": " + chain + " holds the certificate \"CN=localhost,O=regmirror\", which is not valid "
                + "before 2024-05-01T10:00:00Z (is this machine's clock right? it says 2024-05-01T09:55:00Z)",
                refused.getMessage());
    }

    @Test
    void theLastSecondOfValidityStillLoads() throws Exception {
        clock.advance(LocalCa.SERVER_VALIDITY);
        assertEquals(server.chain(), load(chain, key).chain());
    }

    private TlsMaterial load(Path certificate, Path privateKey) throws TlsMaterialException {
        return new TlsMaterialLoader(clock).load(certificate(certificate), privateKey(privateKey));
    }

    private void assertRefused(String setting, String message, Path certificate, Path privateKey) {
        TlsMaterialException refused = assertThrows(TlsMaterialException.class, () -> load(certificate, privateKey));
        assertEquals(message, refused.getMessage());
        assertEquals(setting, refused.setting());
        assertFalse(refused.getMessage().contains("\n"));
    }
}
