package dev.regmirror.core.client;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A server key and self-signed certificate made with the JDK's {@code keytool}: a PKCS12 keystore
 * for WireMock to serve HTTPS with, and the certificate as PEM for a client's CA file.
 */
record SelfSignedCertificate(Path keystore, Path pem) {

    static final String PASSWORD = "changeit";

    /** A certificate for the names in {@code san}, such as {@code ip:127.0.0.1,dns:localhost}. */
    static SelfSignedCertificate create(Path directory, String name, String san) throws IOException,
            InterruptedException {
        Path keystore = directory.resolve(name + ".p12");
        Path pem = directory.resolve(name + ".pem");
        keytool("-genkeypair", "-alias", "server", "-keyalg", "EC", "-groupname", "secp256r1", "-validity", "2",
                "-dname", "CN=" + name, "-ext", "san=" + san, "-storetype", "PKCS12", "-keystore", keystore.toString(),
                "-storepass", PASSWORD, "-keypass", PASSWORD);
        keytool("-exportcert", "-rfc", "-alias", "server", "-keystore", keystore.toString(), "-storetype", "PKCS12",
                "-storepass", PASSWORD, "-file", pem.toString());
        return new SelfSignedCertificate(keystore, pem);
    }

    private static void keytool(String... arguments) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        command.addAll(List.of(arguments));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(30, TimeUnit.SECONDS) || process.exitValue() != 0) {
            throw new IOException("keytool " + String.join(" ", arguments) + " failed: " + output);
        }
    }
}
