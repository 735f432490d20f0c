package dev.regmirror.core.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.regmirror.core.testing.MutableClock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Clock;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The loader reads the key forms users have, from JDK keys written by BouncyCastle and from keys openssl makes. */
class TlsMaterialLoaderTest {

    @TempDir
    Path directory;

    private final MutableClock clock = new MutableClock();
    private final LocalCa ca = LocalCa.create("test CA", clock);
    private final ServerNames names = ServerNames.parse(List.of("localhost"), List.of("127.0.0.1"));

    /** A key writer of one PEM form. */
    private interface Form {
        String write(KeyPair key) throws Exception;
    }

    static Stream<Arguments> forms() {
        Form pkcs8 = key -> TestPem.pkcs8(key.getPrivate());
        Form traditional = key -> TestPem.traditional(key.getPrivate());
        return Stream.of(
                Arguments.of("PKCS#8 RSA", "RSA", pkcs8, "-----BEGIN PRIVATE KEY-----"),
                Arguments.of("PKCS#8 EC P-256", "secp256r1", pkcs8, "-----BEGIN PRIVATE KEY-----"),
                Arguments.of("PKCS#1 RSA", "RSA", traditional, "-----BEGIN RSA PRIVATE KEY-----"),
                Arguments.of("SEC1 EC P-256", "secp256r1", traditional, "-----BEGIN EC PRIVATE KEY-----"),
                Arguments.of("SEC1 EC P-384", "secp384r1", traditional, "-----BEGIN EC PRIVATE KEY-----"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("forms")
    void readsEachKeyForm(String label, String type, Form form, String header) throws Exception {
        KeyPair key = type.equals("RSA") ? TestPem.rsa() : TestPem.ec(type);
        TlsMaterial issued = ca.issueServer(names, key);
        Path chain = Files.writeString(directory.resolve("server.crt"), TestPem.certificates(issued.chain()));
        Path keyFile = Files.writeString(directory.resolve("server.key"), form.write(key));
        assertTrue(Files.readString(keyFile).startsWith(header + "\n"), label + ": " + Files.readString(keyFile));

        TlsMaterial loaded = loader().load(certificate(chain), privateKey(keyFile));

        assertTrue(TestPem.sameKey(key.getPrivate(), loaded.key()), label);
        assertEquals(issued.chain(), loaded.chain());
    }

    @Test
    void readsKeysMadeByOpensslTheWayUsersMakeThem() throws Exception {
        assumeTrue(Openssl.available(), "openssl is not installed");
        Openssl.run(directory, "genrsa", "-traditional", "-out", "rsa.key", "2048");
        Openssl.run(directory, "ecparam", "-name", "prime256v1", "-genkey", "-out", "ec.key");
        assertTrue(Files.readString(directory.resolve("rsa.key")).startsWith("-----BEGIN RSA PRIVATE KEY-----\n"));
        String ecKey = Files.readString(directory.resolve("ec.key"));
        assertTrue(ecKey.startsWith("-----BEGIN EC PARAMETERS-----\n") && ecKey.contains("-----BEGIN EC PRIVATE KEY-----\n"),
                ecKey);

        for (String name : List.of("rsa", "ec")) {
            Openssl.run(directory, "req", "-new", "-x509", "-key", name + ".key", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-days", "2", "-out", name + ".crt");
            TlsMaterial loaded = new TlsMaterialLoader(Clock.systemUTC())
                    .load(certificate(directory.resolve(name + ".crt")), privateKey(directory.resolve(name + ".key")));
            assertEquals("CN=localhost", loaded.leaf().getSubjectX500Principal().getName(), name);
            assertEquals(name.equals("rsa") ? "RSA" : "EC", loaded.key().getAlgorithm());
        }
    }

    @Test
    void readsOneFileHoldingBothTheKeyAndTheChain() throws Exception {
        TlsMaterial issued = ca.issueServer(names);
        Path both = Files.writeString(directory.resolve("server.pem"),
                TestPem.traditional(issued.key()) + TestPem.certificates(issued.chain()));

        TlsMaterial loaded = loader().load(certificate(both), privateKey(both));

        assertEquals(issued.chain(), loaded.chain());
        assertTrue(TestPem.sameKey(issued.key(), loaded.key()));
    }

    private TlsMaterialLoader loader() {
        return new TlsMaterialLoader(clock);
    }

    static SettingFile certificate(Path file) {
        return new SettingFile("regmirror.server.tls.certificate", file);
    }

    static SettingFile privateKey(Path file) {
        return new SettingFile("regmirror.server.tls.private-key", file);
    }
}
