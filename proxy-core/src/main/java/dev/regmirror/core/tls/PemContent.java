package dev.regmirror.core.tls;

import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;

/**
 * The objects of one PEM file as BouncyCastle's {@link PEMParser} reads them: certificates, and
 * private keys in PKCS#8 ({@code BEGIN PRIVATE KEY}), PKCS#1 ({@code BEGIN RSA PRIVATE KEY}) or
 * SEC1 ({@code BEGIN EC PRIVATE KEY}); anything else in the file (EC parameters, a public key) is
 * passed over, so one file may hold both a key and its certificates.
 */
final class PemContent {

    private final SettingFile source;
    private final List<Object> objects;

    private PemContent(SettingFile source, List<Object> objects) {
        this.source = source;
        this.objects = objects;
    }

    static PemContent read(SettingFile source) throws TlsMaterialException {
        String text;
        try {
            // Latin-1 decodes any bytes: a binary file is then text without PEM blocks, not an error.
            text = Files.readString(source.file(), StandardCharsets.ISO_8859_1);
        } catch (NoSuchFileException e) {
            throw failure(source, "does not exist", e);
        } catch (AccessDeniedException e) {
            throw failure(source, "cannot be read: permission denied", e);
        } catch (IOException e) {
            throw failure(source, Files.isDirectory(source.file()) ? "is a directory, not a PEM file"
                    : "cannot be read: " + oneLine(e), e);
        }
        List<Object> objects = new ArrayList<>();
        try (PEMParser parser = new PEMParser(new StringReader(text))) {
            for (Object object = parser.readObject(); object != null; object = parser.readObject()) {
                objects.add(object);
            }
        } catch (IOException | RuntimeException e) {
            throw failure(source, "is not valid PEM: " + oneLine(e), e);
        }
        return new PemContent(source, objects);
    }

    /** The certificates, in the order of the file. */
    List<X509Certificate> certificates() throws TlsMaterialException {
        JcaX509CertificateConverter converter = new JcaX509CertificateConverter();
        List<X509Certificate> certificates = new ArrayList<>();
        for (Object object : objects) {
            if (object instanceof X509CertificateHolder holder) {
                try {
                    certificates.add(converter.getCertificate(holder));
                } catch (CertificateException e) {
                    throw failure(source, "holds a certificate the JDK cannot read: " + oneLine(e), e);
                }
            }
        }
        return certificates;
    }

    /** The private keys, whatever their PEM form; an encrypted one is refused. */
    List<PrivateKeyInfo> privateKeys() throws TlsMaterialException {
        List<PrivateKeyInfo> keys = new ArrayList<>();
        for (Object object : objects) {
            if (object instanceof PrivateKeyInfo info) {
                keys.add(info);
            } else if (object instanceof PEMKeyPair pair) {
                keys.add(pair.getPrivateKeyInfo());
            } else if (object instanceof PEMEncryptedKeyPair || object instanceof PKCS8EncryptedPrivateKeyInfo) {
                throw failure(source, "holds an encrypted private key, and regmirror reads only unencrypted ones: "
                        + "decrypt it into a new file with openssl pkey -in " + source.file() + " -out NEW.key "
                        + "(and keep that file mode 0600)", null);
            }
        }
        return keys;
    }

    static TlsMaterialException failure(SettingFile source, String problem, Throwable cause) {
        return new TlsMaterialException(source.setting(), source.problem(problem), cause);
    }

    /** An exception's message on one line (BouncyCastle's may span several), or its type if it has none. */
    static String oneLine(Throwable e) {
        String message = e.getMessage() == null || e.getMessage().isBlank() ? e.getClass().getSimpleName() : e.getMessage();
        return message.strip().replaceAll("\\s*\\R\\s*", "; ");
    }
}
