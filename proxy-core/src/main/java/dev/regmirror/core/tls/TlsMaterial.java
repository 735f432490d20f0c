package dev.regmirror.core.tls;

import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import javax.security.auth.x500.X500Principal;

/**
 * A server's private key and its certificate chain, the server's own certificate (the leaf) first,
 * then the CAs that issued it; the key always belongs to the leaf.
 */
public record TlsMaterial(PrivateKey key, List<X509Certificate> chain) {

    public TlsMaterial {
        Objects.requireNonNull(key, "key");
        chain = List.copyOf(chain);
        if (chain.isEmpty()) {
            throw new IllegalArgumentException("a certificate chain holds at least the server's certificate");
        }
        if (!KeyMatch.matches(key, chain.get(0).getPublicKey())) {
            throw new IllegalArgumentException("the key does not belong to the first certificate of the chain, "
                    + chain.get(0).getSubjectX500Principal().getName());
        }
    }

    /** The server's own certificate, the one the key belongs to. */
    public X509Certificate leaf() {
        return chain.get(0);
    }

    /**
     * The leaf in one line for a log: subject, the names it is valid for, when it expires and its
     * SHA-256 fingerprint as {@code openssl x509 -noout -fingerprint -sha256} prints it, e.g.
     * {@code CN=mirror.lan (DNS:mirror.lan, IP:10.0.0.5), expires 2028-02-24T10:00:00Z, SHA-256 4F:2A:…}.
     */
    public String describeLeaf() {
        X509Certificate leaf = leaf();
        return leaf.getSubjectX500Principal().getName(X500Principal.RFC2253) + " (" + String.join(", ", names(leaf))
                + "), expires " + leaf.getNotAfter().toInstant() + ", SHA-256 " + fingerprint(leaf);
    }

    /** The subject alternative names, {@code DNS:} and {@code IP:} as openssl shows them. */
    static List<String> names(X509Certificate certificate) {
        Collection<List<?>> alternatives;
        try {
            alternatives = certificate.getSubjectAlternativeNames();
        } catch (CertificateParsingException e) {
            return List.of("unreadable subject alternative names: " + e.getMessage());
        }
        if (alternatives == null) {
            return List.of("no subject alternative names");
        }
        List<String> names = new ArrayList<>();
        for (List<?> name : alternatives) {
            int type = (Integer) name.get(0);
            String prefix = type == 2 ? "DNS:" : type == 7 ? "IP:" : "type " + type + ":";
            names.add(prefix + name.get(1));
        }
        return names;
    }

    static String fingerprint(X509Certificate certificate) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(certificate.getEncoded());
            return HexFormat.ofDelimiter(":").withUpperCase().formatHex(digest);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("SHA-256 of a certificate: " + e.getMessage(), e);
        }
    }
}
