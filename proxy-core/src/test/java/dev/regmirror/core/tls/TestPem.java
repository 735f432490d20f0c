package dev.regmirror.core.tls;

import java.io.IOException;
import java.io.StringWriter;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.RSAPrivateKey;
import java.security.spec.ECGenParameterSpec;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.openssl.jcajce.JceOpenSSLPKCS8EncryptorBuilder;
import org.bouncycastle.openssl.jcajce.JcePEMEncryptorBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.util.io.pem.PemObject;

/** Keys made with the JDK and written in the PEM forms users bring, for the loader's tests. */
final class TestPem {

    private TestPem() {
    }

    static KeyPair rsa() throws GeneralSecurityException {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
        generator.initialize(2048);
        return generator.generateKeyPair();
    }

    static KeyPair ec(String curve) throws GeneralSecurityException {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec(curve));
        return generator.generateKeyPair();
    }

    /** {@code BEGIN PRIVATE KEY}. */
    static String pkcs8(PrivateKey key) throws IOException {
        return pem(new JcaPKCS8Generator(key, null));
    }

    /**
     * OpenSSL's "traditional" form: PKCS#1 ({@code BEGIN RSA PRIVATE KEY}) or SEC1 ({@code BEGIN EC
     * PRIVATE KEY}). BouncyCastle writes a JDK EC key's SEC1 structure as the JDK encodes it, without
     * the curve (the JDK keeps that outside); openssl writes the curve inside, and so does this.
     */
    static String traditional(PrivateKey key) throws IOException {
        if (!(key instanceof ECPrivateKey ec)) {
            return pem(key);
        }
        PrivateKeyInfo info = PrivateKeyInfo.getInstance(key.getEncoded());
        org.bouncycastle.asn1.sec.ECPrivateKey sec1 = new org.bouncycastle.asn1.sec.ECPrivateKey(
                ec.getParams().getOrder().bitLength(), ec.getS(), info.getPrivateKeyAlgorithm().getParameters());
        return pem(new PemObject("EC PRIVATE KEY", sec1.getEncoded()));
    }

    /** {@code BEGIN ENCRYPTED PRIVATE KEY}, as {@code openssl pkcs8 -topk8} writes it. */
    static String encryptedPkcs8(PrivateKey key) throws IOException, OperatorCreationException {
        // BouncyCastle's provider, as an instance for this one encryptor (the JDK lacks AES/CBC/PKCS7Padding and
        // OpenSSL's key derivation); never registered with the JVM.
        return pem(new JcaPKCS8Generator(key, new JceOpenSSLPKCS8EncryptorBuilder(JcaPKCS8Generator.AES_256_CBC)
                .setProvider(new BouncyCastleProvider()).setPassword("secret".toCharArray()).build()));
    }

    /** {@code BEGIN RSA PRIVATE KEY} with {@code Proc-Type: 4,ENCRYPTED}, as {@code openssl genrsa -aes128 -traditional}. */
    static String encryptedTraditional(PrivateKey key) throws IOException {
        StringWriter text = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(text)) {
            writer.writeObject(key, new JcePEMEncryptorBuilder("AES-128-CBC").setProvider(new BouncyCastleProvider())
                    .build("secret".toCharArray()));
        }
        return text.toString();
    }

    static String certificates(List<X509Certificate> certificates) throws IOException {
        StringWriter text = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(text)) {
            for (X509Certificate certificate : certificates) {
                writer.writeObject(certificate);
            }
        }
        return text.toString();
    }

    /** Whether two private keys are the same key, whatever their encodings. */
    static boolean sameKey(PrivateKey a, PrivateKey b) {
        if (a instanceof RSAPrivateKey rsaA && b instanceof RSAPrivateKey rsaB) {
            return rsaA.getModulus().equals(rsaB.getModulus()) && rsaA.getPrivateExponent().equals(rsaB.getPrivateExponent());
        }
        if (a instanceof ECPrivateKey ecA && b instanceof ECPrivateKey ecB) {
            return ecA.getS().equals(ecB.getS()) && ecA.getParams().getCurve().equals(ecB.getParams().getCurve());
        }
        return false;
    }

    private static String pem(Object object) throws IOException {
        StringWriter text = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(text)) {
            writer.writeObject(object);
        }
        return text.toString();
    }
}
