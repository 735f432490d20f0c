package dev.regmirror.core.auth.token;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.AlgorithmParameters;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.security.spec.ECPoint;
import java.security.spec.ECPrivateKeySpec;
import java.security.spec.ECPublicKeySpec;
import java.util.Objects;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1Object;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.sec.SECObjectIdentifiers;
import org.bouncycastle.asn1.x9.ECNamedCurveTable;
import org.bouncycastle.asn1.x9.X9ECParameters;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.util.io.pem.PemObject;
import org.bouncycastle.util.io.pem.PemReader;

/**
 * The EC P-256 key tokens are signed with (ES256), and its key id: the
 * <a href="https://www.rfc-editor.org/rfc/rfc7638">RFC 7638</a> thumbprint of its public key, so the
 * same key file gives the same id on every start and every replica.
 */
public final class SigningKey {

    private final ECKey jwk;

    private SigningKey(ECKey jwk) {
        this.jwk = Objects.requireNonNull(jwk, "jwk");
    }

    /** A new random key, for a mirror whose tokens need not outlive the process. */
    public static SigningKey generate() {
        try {
            return new SigningKey(new ECKeyGenerator(Curve.P_256).keyIDFromThumbprint(true).generate());
        } catch (JOSEException e) {
            throw new IllegalStateException("the JRE cannot generate an EC P-256 key", e);
        }
    }

    /**
     * Reads an EC P-256 private key from a PEM file, PKCS#8 ({@code BEGIN PRIVATE KEY}, what
     * {@code openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256} writes) or SEC1
     * ({@code BEGIN EC PRIVATE KEY}, what {@code openssl ecparam -name prime256v1 -genkey} writes).
     *
     * @throws IOException if the file cannot be read or holds no such key; the message names the file
     */
    public static SigningKey read(Path file) throws IOException {
        String where = "signing key " + file;
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new IOException("cannot read " + where + ": " + e.getClass().getSimpleName(), e);
        }
        try (Reader in = new StringReader(new String(bytes, StandardCharsets.US_ASCII));
             PemReader pem = new PemReader(in)) {
            for (PemObject object = pem.readPemObject(); object != null; object = pem.readPemObject()) {
                if (object.getType().equals("PRIVATE KEY")) {
                    PrivateKeyInfo info = PrivateKeyInfo.getInstance(object.getContent());
                    if (!X9ObjectIdentifiers.id_ecPublicKey.equals(info.getPrivateKeyAlgorithm().getAlgorithm())) {
                        throw new IOException(where + " is not an EC key; tokens are signed with ES256, an EC P-256 key");
                    }
                    ASN1Encodable curve = info.getPrivateKeyAlgorithm().getParameters();
                    return fromSec1(where, curve == null ? null : curve.toASN1Primitive(),
                            org.bouncycastle.asn1.sec.ECPrivateKey.getInstance(info.parsePrivateKey()));
                }
                if (object.getType().equals("EC PRIVATE KEY")) {
                    org.bouncycastle.asn1.sec.ECPrivateKey sec1 =
                            org.bouncycastle.asn1.sec.ECPrivateKey.getInstance(object.getContent());
                    return fromSec1(where, sec1.getParametersObject(), sec1);
                }
            }
        } catch (IOException e) {
            if (e.getMessage() != null && e.getMessage().startsWith(where)) {
                throw e;
            }
            throw new IOException(where + " is not a PEM private key: " + e.getMessage(), e);
        } catch (RuntimeException e) { // BouncyCastle's ASN.1 parsers throw IllegalArgumentException and the like
            throw new IOException(where + " is not a PEM private key: " + e.getMessage(), e);
        }
        throw new IOException(where + " holds no PEM private key (BEGIN PRIVATE KEY or BEGIN EC PRIVATE KEY)");
    }

    private static SigningKey fromSec1(String where, ASN1Object curve, org.bouncycastle.asn1.sec.ECPrivateKey sec1)
            throws IOException {
        ASN1ObjectIdentifier p256 = SECObjectIdentifiers.secp256r1;
        if (!(curve instanceof ASN1ObjectIdentifier named) || !named.equals(p256)) {
            throw new IOException(where + " is not on curve P-256 (prime256v1, secp256r1); ES256 needs that curve: "
                    + "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256");
        }
        BigInteger d = sec1.getKey();
        X9ECParameters x9 = ECNamedCurveTable.getByOID(p256);
        if (d.signum() <= 0 || d.compareTo(x9.getN()) >= 0) {
            throw new IOException(where + " holds an invalid P-256 private key");
        }
        org.bouncycastle.math.ec.ECPoint q = x9.getG().multiply(d).normalize();
        try {
            AlgorithmParameters parameters = AlgorithmParameters.getInstance("EC");
            parameters.init(new ECGenParameterSpec("secp256r1"));
            ECParameterSpec spec = parameters.getParameterSpec(ECParameterSpec.class);
            KeyFactory factory = KeyFactory.getInstance("EC");
            ECPublicKey publicKey = (ECPublicKey) factory.generatePublic(new ECPublicKeySpec(
                    new ECPoint(q.getAffineXCoord().toBigInteger(), q.getAffineYCoord().toBigInteger()), spec));
            ECPrivateKey privateKey = (ECPrivateKey) factory.generatePrivate(new ECPrivateKeySpec(d, spec));
            return new SigningKey(new ECKey.Builder(Curve.P_256, publicKey).privateKey(privateKey)
                    .keyIDFromThumbprint().build());
        } catch (GeneralSecurityException | JOSEException e) {
            throw new IOException(where + ": the JRE cannot use the key: " + e.getMessage(), e);
        }
    }

    /** The key id tokens carry in their {@code kid} header. */
    public String keyId() {
        return jwk.getKeyID();
    }

    /** The key with its private part, for signing. */
    ECKey jwk() {
        return jwk;
    }

    @Override
    public String toString() {
        return "SigningKey[ES256, kid=" + keyId() + "]";
    }
}
