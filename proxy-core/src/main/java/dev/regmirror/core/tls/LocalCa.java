package dev.regmirror.core.tls;

import java.math.BigInteger;
import java.net.InetAddress;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Objects;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A small certificate authority of one's own that signs server certificates for the names clients
 * use, for a mirror on a LAN that no public CA would certify; keys are ECDSA P-256 unless given.
 */
public final class LocalCa {

    /** How long the CA's certificate is valid: clients are set up to trust it once, for years. */
    public static final Duration CA_VALIDITY = Duration.ofDays(3650);

    /**
     * How long a server certificate is valid: 825 days, the most Apple platforms accept from any CA,
     * one a user added included (the 398-day rule of browsers is for public CAs only).
     */
    public static final Duration SERVER_VALIDITY = Duration.ofDays(825);

    private final TlsMaterial material;
    private final Clock clock;
    private final SecureRandom random;

    private LocalCa(TlsMaterial material, Clock clock, SecureRandom random) {
        this.material = material;
        this.clock = clock;
        this.random = random;
    }

    /** A new CA with a new P-256 key, valid from the clock's now for {@link #CA_VALIDITY}. */
    public static LocalCa create(String commonName, Clock clock) {
        SecureRandom random = new SecureRandom();
        return create(commonName, newKey(random), clock, random);
    }

    /** A new CA with {@code key} (RSA or EC), valid from the clock's now for {@link #CA_VALIDITY}. */
    public static LocalCa create(String commonName, KeyPair key, Clock clock) {
        return create(commonName, key, clock, new SecureRandom());
    }

    private static LocalCa create(String commonName, KeyPair key, Clock clock, SecureRandom random) {
        X500Name name = name(Objects.requireNonNull(commonName, "commonName"));
        Instant now = clock.instant().truncatedTo(ChronoUnit.SECONDS);
        try {
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(name, serial(random), Date.from(now),
                    Date.from(now.plus(CA_VALIDITY)), name, key.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(0))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
                    .addExtension(Extension.subjectKeyIdentifier, false, extensions().createSubjectKeyIdentifier(key.getPublic()));
            X509Certificate certificate = sign(builder, key.getPrivate());
            return new LocalCa(new TlsMaterial(key.getPrivate(), List.of(certificate)), clock, random);
        } catch (CertIOException e) {
            throw new IllegalStateException("cannot build a CA certificate: " + e.getMessage(), e);
        }
    }

    /** The CA's key and its self-signed certificate. */
    public TlsMaterial material() {
        return material;
    }

    public X509Certificate certificate() {
        return material.leaf();
    }

    /** A server certificate for {@code names} with a new P-256 key; its chain is it, then the CA's. */
    public TlsMaterial issueServer(ServerNames names) {
        return issueServer(names, newKey(random));
    }

    /**
     * A server certificate for {@code names} with {@code key} (RSA or EC), valid from the clock's now
     * for {@link #SERVER_VALIDITY}; its chain is it, then the CA's certificate.
     */
    public TlsMaterial issueServer(ServerNames names, KeyPair key) {
        Instant now = clock.instant().truncatedTo(ChronoUnit.SECONDS);
        PublicKey publicKey = key.getPublic();
        int usage = KeyUsage.digitalSignature | ("RSA".equals(publicKey.getAlgorithm()) ? KeyUsage.keyEncipherment : 0);
        try {
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(certificate(), serial(random),
                    Date.from(now), Date.from(now.plus(SERVER_VALIDITY)), name(names.first()), publicKey)
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(usage))
                    .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth))
                    .addExtension(Extension.subjectAlternativeName, false, alternativeNames(names))
                    .addExtension(Extension.subjectKeyIdentifier, false, extensions().createSubjectKeyIdentifier(publicKey))
                    .addExtension(Extension.authorityKeyIdentifier, false,
                            extensions().createAuthorityKeyIdentifier(certificate().getPublicKey()));
            return new TlsMaterial(key.getPrivate(), List.of(sign(builder, material.key()), certificate()));
        } catch (CertIOException e) {
            throw new IllegalStateException("cannot build a server certificate: " + e.getMessage(), e);
        }
    }

    private static GeneralNames alternativeNames(ServerNames names) {
        List<GeneralName> all = new ArrayList<>();
        names.dnsNames().forEach(name -> all.add(new GeneralName(GeneralName.dNSName, name)));
        for (InetAddress address : names.addresses()) {
            all.add(new GeneralName(GeneralName.iPAddress, new DEROctetString(address.getAddress())));
        }
        return new GeneralNames(all.toArray(GeneralName[]::new));
    }

    private static X500Name name(String commonName) {
        return new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.O, "regmirror").addRDN(BCStyle.CN, commonName).build();
    }

    /** A positive serial of 128 random bits (at least 64 are required), under the 20-octet limit. */
    private static BigInteger serial(SecureRandom random) {
        return new BigInteger(128, random).setBit(127);
    }

    private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey signer) {
        try {
            return new JcaX509CertificateConverter().getCertificate(
                    builder.build(new JcaContentSignerBuilder(KeyMatch.signatureAlgorithm(signer)).build(signer)));
        } catch (OperatorCreationException | GeneralSecurityException e) {
            throw new IllegalStateException("cannot sign a certificate: " + e.getMessage(), e);
        }
    }

    private static JcaX509ExtensionUtils extensions() {
        try {
            return new JcaX509ExtensionUtils();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JVM has no SHA-1 for key identifiers", e);
        }
    }

    private static KeyPair newKey(SecureRandom random) {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"), random);
            return generator.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JVM cannot make a P-256 key: " + e.getMessage(), e);
        }
    }
}
