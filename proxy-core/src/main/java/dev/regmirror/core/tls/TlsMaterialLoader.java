package dev.regmirror.core.tls;

import java.security.PrivateKey;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.Date;
import java.util.List;
import java.util.Objects;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.openssl.PEMException;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.operator.DefaultAlgorithmNameFinder;

/**
 * Reads a server's certificate chain and private key from the PEM files two settings name, and
 * checks that they can serve now: one unencrypted RSA or EC key, belonging to the file's first
 * certificate, which is valid at the clock's time.
 */
public final class TlsMaterialLoader {

    private final Clock clock;

    public TlsMaterialLoader(Clock clock) {
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /**
     * The chain of {@code certificate} (the server's certificate first, as servers send it) and the
     * key of {@code privateKey}; the two may be the same file.
     *
     * @throws TlsMaterialException with a one-line message naming the setting of the file at fault
     */
    public TlsMaterial load(SettingFile certificate, SettingFile privateKey) throws TlsMaterialException {
        List<X509Certificate> chain = PemContent.read(certificate).certificates();
        if (chain.isEmpty()) {
            throw PemContent.failure(certificate, "holds no PEM certificate (-----BEGIN CERTIFICATE-----)", null);
        }
        List<PrivateKeyInfo> keys = PemContent.read(privateKey).privateKeys();
        if (keys.isEmpty()) {
            throw PemContent.failure(privateKey, "holds no PEM private key (-----BEGIN PRIVATE KEY-----, "
                    + "-----BEGIN RSA PRIVATE KEY----- or -----BEGIN EC PRIVATE KEY-----)", null);
        }
        if (keys.size() > 1) {
            throw PemContent.failure(privateKey, "holds " + keys.size() + " private keys; leave only the server's", null);
        }
        PrivateKey key = convert(keys.get(0), privateKey);
        checkBelongs(key, chain, certificate, privateKey);
        checkValid(chain.get(0), certificate);
        return new TlsMaterial(key, chain);
    }

    private static PrivateKey convert(PrivateKeyInfo info, SettingFile source) throws TlsMaterialException {
        ASN1ObjectIdentifier algorithm = info.getPrivateKeyAlgorithm().getAlgorithm();
        if (!algorithm.equals(PKCSObjectIdentifiers.rsaEncryption) && !algorithm.equals(X9ObjectIdentifiers.id_ecPublicKey)) {
            throw PemContent.failure(source, "holds a key of type " + new DefaultAlgorithmNameFinder().getAlgorithmName(algorithm)
                    + "; regmirror takes RSA and EC keys", null);
        }
        try {
            return new JcaPEMKeyConverter().getPrivateKey(info);
        } catch (PEMException e) {
            throw PemContent.failure(source, "holds a key the JDK cannot use: " + PemContent.oneLine(e), e);
        }
    }

    private static void checkBelongs(PrivateKey key, List<X509Certificate> chain, SettingFile certificate,
                                     SettingFile privateKey) throws TlsMaterialException {
        if (KeyMatch.matches(key, chain.get(0).getPublicKey())) {
            return;
        }
        for (int i = 1; i < chain.size(); i++) {
            if (KeyMatch.matches(key, chain.get(i).getPublicKey())) {
                throw PemContent.failure(certificate, "starts with " + subject(chain.get(0)) + ", but the key of "
                        + privateKey.file() + " (" + privateKey.setting() + ") belongs to certificate " + (i + 1) + ", "
                        + subject(chain.get(i)) + ": the server's own certificate comes first, then its CAs", null);
            }
        }
        throw PemContent.failure(privateKey, "holds a key that does not belong to the certificate "
                + subject(chain.get(0)) + " of " + certificate.file() + " (" + certificate.setting() + ")", null);
    }

    private void checkValid(X509Certificate leaf, SettingFile certificate) throws TlsMaterialException {
        try {
            leaf.checkValidity(Date.from(clock.instant()));
        } catch (CertificateExpiredException e) {
            throw PemContent.failure(certificate, "holds the certificate " + subject(leaf) + ", which expired at "
                    + leaf.getNotAfter().toInstant(), e);
        } catch (CertificateNotYetValidException e) {
            throw PemContent.failure(certificate, "holds the certificate " + subject(leaf) + ", which is not valid before "
                    + leaf.getNotBefore().toInstant() + " (is this machine's clock right? it says " + clock.instant() + ")", e);
        }
    }

    private static String subject(X509Certificate certificate) {
        return "\"" + certificate.getSubjectX500Principal().getName() + "\"";
    }
}
