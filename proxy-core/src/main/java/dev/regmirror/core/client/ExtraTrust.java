package dev.regmirror.core.client;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertPathBuilderException;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * A trust manager that trusts the JVM's own CAs plus those of a PEM file (a registry with a
 * private CA); a server certificate is accepted if either trusts it, with the host name always checked.
 */
public final class ExtraTrust extends X509ExtendedTrustManager {

    /** A check of one trust manager. */
    private interface Check {
        void run(X509ExtendedTrustManager manager) throws CertificateException;
    }

    private final List<X509ExtendedTrustManager> managers;

    private ExtraTrust(List<X509ExtendedTrustManager> managers) {
        this.managers = managers;
    }

    /** A trust manager trusting the JVM's CAs and the certificates in {@code caFile}. */
    public static ExtraTrust of(Path caFile) {
        try {
            KeyStore extra = KeyStore.getInstance(KeyStore.getDefaultType());
            extra.load(null, null);
            int index = 0;
            for (Certificate certificate : read(caFile)) {
                extra.setCertificateEntry("ca-" + index++, certificate);
            }
            return new ExtraTrust(List.of(managerFor(null), managerFor(extra)));
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalArgumentException("CA file " + caFile + ": " + e.getMessage(), e);
        }
    }

    private static Collection<? extends Certificate> read(Path caFile) throws IOException, GeneralSecurityException {
        Collection<? extends Certificate> certificates;
        try (InputStream in = Files.newInputStream(caFile)) {
            certificates = CertificateFactory.getInstance("X.509").generateCertificates(in);
        }
        if (certificates.isEmpty()) {
            throw new IllegalArgumentException("CA file " + caFile + " holds no PEM certificate");
        }
        return certificates;
    }

    /** The PKIX trust manager of {@code store}, or of the JVM's own CAs when it is null. */
    private static X509ExtendedTrustManager managerFor(KeyStore store) throws GeneralSecurityException {
        TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        factory.init(store);
        for (TrustManager manager : factory.getTrustManagers()) {
            if (manager instanceof X509ExtendedTrustManager x509) {
                return x509;
            }
        }
        throw new GeneralSecurityException("no X.509 trust manager");
    }

    /**
     * Passes if any manager passes; else fails with the reason of one that found a path to its CA
     * (the certificate does not fit, say, the host name), or the first manager's.
     */
    private void check(Check check) throws CertificateException {
        List<CertificateException> refusals = new ArrayList<>();
        for (X509ExtendedTrustManager manager : managers) {
            try {
                check.run(manager);
                return;
            } catch (CertificateException e) {
                refusals.add(e);
            }
        }
        CertificateException reason = refusals.stream().filter(e -> !noPath(e)).findFirst().orElse(refusals.get(0));
        refusals.stream().filter(e -> e != reason).forEach(reason::addSuppressed);
        throw reason;
    }

    private static boolean noPath(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof CertPathBuilderException) {
                return true;
            }
        }
        return false;
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        check(manager -> manager.checkServerTrusted(chain, authType, socket));
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        check(manager -> manager.checkServerTrusted(chain, authType, engine));
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        check(manager -> manager.checkServerTrusted(chain, authType));
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        throw new CertificateException("regmirror's upstream connections do not accept clients");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        throw new CertificateException("regmirror's upstream connections do not accept clients");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        throw new CertificateException("regmirror's upstream connections do not accept clients");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        List<X509Certificate> issuers = new ArrayList<>();
        managers.forEach(manager -> issuers.addAll(List.of(manager.getAcceptedIssuers())));
        return issuers.toArray(X509Certificate[]::new);
    }
}
