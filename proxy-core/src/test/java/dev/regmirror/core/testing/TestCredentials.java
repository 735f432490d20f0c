package dev.regmirror.core.testing;

import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.crypto.generators.OpenBSDBCrypt;

/** Credentials for tests of a locked-down mirror: htpasswd lines, and clients that trust one CA. */
public final class TestCredentials {

    private TestCredentials() {
    }

    /** {@code user:$2y$10$...}, a line of an htpasswd file as {@code htpasswd -B} writes it. */
    /** The {@code Authorization} value of HTTP basic authentication for {@code user} and {@code password}. */
    public static String basic(String user, String password) {
        return "Basic " + java.util.Base64.getEncoder().encodeToString((user + ":" + password)
                .getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    public static String htpasswdLine(String user, String password) {
        byte[] salt = new byte[16];
        new SecureRandom().nextBytes(salt);
        return user + ":" + OpenBSDBCrypt.generate("2y", password.toCharArray(), salt, 10);
    }

    /** A client TLS context that trusts this CA and nothing else. */
    public static SSLContext trusting(X509Certificate ca) throws Exception {
        KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
        trust.load(null, null);
        trust.setCertificateEntry("ca", ca);
        TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        factory.init(trust);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, factory.getTrustManagers(), null);
        return context;
    }
}
