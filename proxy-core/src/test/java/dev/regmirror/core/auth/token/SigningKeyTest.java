package dev.regmirror.core.auth.token;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.interfaces.ECPrivateKey;
import java.security.spec.ECGenParameterSpec;
import java.util.Base64;
import java.util.concurrent.TimeUnit;
import org.bouncycastle.asn1.sec.SECObjectIdentifiers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Signing keys generated, and read from the PEM files openssl writes. */
class SigningKeyTest {

    @TempDir
    Path dir;

    static KeyPair ecKeyPair(String curve) throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec(curve));
        return generator.generateKeyPair();
    }

    static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }

    private Path write(String name, String content) throws IOException {
        Path file = dir.resolve(name);
        Files.writeString(file, content);
        return file;
    }

    @Test
    void generatedKeysHaveTheirOwnIds() {
        SigningKey one = SigningKey.generate();
        SigningKey two = SigningKey.generate();
        assertNotEquals(one.keyId(), two.keyId());
        assertTrue(one.toString().contains(one.keyId()));
    }

    @Test
    void aPkcs8FileGivesTheSameKeyIdOnEveryRead() throws Exception {
        KeyPair pair = ecKeyPair("secp256r1");
        Path file = write("key.pem", pem("PRIVATE KEY", pair.getPrivate().getEncoded()));
        SigningKey first = SigningKey.read(file);
        assertEquals(first.keyId(), SigningKey.read(file).keyId());
        assertEquals(pair.getPublic(), first.jwk().toECPublicKey(), "the public key is derived from the private one");
    }

    @Test
    void aSec1FileWithItsParametersBlockIsRead() throws Exception {
        KeyPair pair = ecKeyPair("secp256r1");
        BigInteger d = ((ECPrivateKey) pair.getPrivate()).getS();
        byte[] sec1 = new org.bouncycastle.asn1.sec.ECPrivateKey(256, d,
                SECObjectIdentifiers.secp256r1).getEncoded();
        Path file = write("ec.pem", pem("EC PARAMETERS", SECObjectIdentifiers.secp256r1.getEncoded()) + pem("EC PRIVATE KEY", sec1));
        assertEquals(pair.getPublic(), SigningKey.read(file).jwk().toECPublicKey());
    }

    @Test
    void aKeyMadeByOpensslIsRead() throws Exception {
        Path openssl = Path.of("/usr/bin/openssl");
        assumeTrue(Files.isExecutable(openssl), "openssl is not installed");
        Path file = dir.resolve("openssl.pem");
        Process process = new ProcessBuilder(openssl.toString(), "genpkey", "-algorithm", "EC", "-pkeyopt",
                "ec_paramgen_curve:P-256", "-out", file.toString()).redirectErrorStream(true).start();
        process.getInputStream().readAllBytes();
        assumeTrue(process.waitFor(30, TimeUnit.SECONDS) && process.exitValue() == 0, "openssl genpkey failed");
        assertEquals(SigningKey.read(file).keyId(), SigningKey.read(file).keyId());
    }

    @Test
    void otherCurvesOtherKeysAndOtherFilesAreRefusedNamingTheFile() throws Exception {
        Path p384 = write("p384.pem", pem("PRIVATE KEY", ecKeyPair("secp384r1").getPrivate().getEncoded()));
        assertEquals("signing key " + p384 + " is not on curve P-256 (prime256v1, secp256r1); ES256 needs that curve: "
                + "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256",
                assertThrows(IOException.class, () -> SigningKey.read(p384)).getMessage());

        KeyPairGenerator rsa = KeyPairGenerator.getInstance("RSA");
        rsa.initialize(2048);
        Path rsaFile = write("rsa.pem", pem("PRIVATE KEY", rsa.generateKeyPair().getPrivate().getEncoded()));
        assertEquals("signing key " + rsaFile + " is not an EC key; tokens are signed with ES256, an EC P-256 key",
                assertThrows(IOException.class, () -> SigningKey.read(rsaFile)).getMessage());

        Path certificate = write("cert.pem", pem("CERTIFICATE", new byte[] {1, 2, 3}));
        assertEquals("signing key " + certificate + " holds no PEM private key (BEGIN PRIVATE KEY or BEGIN EC PRIVATE KEY)",
                assertThrows(IOException.class, () -> SigningKey.read(certificate)).getMessage());

        Path garbage = write("garbage.pem", pem("PRIVATE KEY", new byte[] {0x30, 0x03, 1, 2, 3}));
        assertTrue(assertThrows(IOException.class, () -> SigningKey.read(garbage)).getMessage()
                .startsWith("signing key " + garbage + " is not a PEM private key"));

        Path missing = dir.resolve("missing.pem");
        assertEquals("cannot read signing key " + missing + ": NoSuchFileException",
                assertThrows(IOException.class, () -> SigningKey.read(missing)).getMessage());
    }
}
