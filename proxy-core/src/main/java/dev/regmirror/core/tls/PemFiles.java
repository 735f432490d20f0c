package dev.regmirror.core.tls;

import java.io.IOException;
import java.io.StringWriter;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import java.util.Set;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;

/**
 * Writes TLS material as PEM files: the chain as certificates, leaf first, and the key unencrypted
 * in PKCS#8 ({@code BEGIN PRIVATE KEY}) readable by its owner only (0600, where the file system has
 * POSIX permissions); each file appears whole, under its name, or not at all.
 */
public final class PemFiles {

    private static final Set<PosixFilePermission> PUBLIC = PosixFilePermissions.fromString("rw-r--r--");
    private static final Set<PosixFilePermission> SECRET = PosixFilePermissions.fromString("rw-------");

    private PemFiles() {
    }

    /**
     * Writes {@code material}'s chain to {@code chainFile} and its key to {@code keyFile}.
     *
     * @param replace whether an existing file may be replaced; if not, an existing file is a
     *     {@link java.nio.file.FileAlreadyExistsException}
     */
    public static void write(TlsMaterial material, Path chainFile, Path keyFile, boolean replace) throws IOException {
        StringWriter chain = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(chain)) {
            for (X509Certificate certificate : material.chain()) {
                writer.writeObject(certificate);
            }
        }
        StringWriter key = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(key)) {
            writer.writeObject(new JcaPKCS8Generator(material.key(), null));
        }
        write(chainFile, chain.toString(), PUBLIC, replace);
        write(keyFile, key.toString(), SECRET, replace);
    }

    /**
     * Writes a temporary file next to {@code file} (created 0600, so a key is never readable by
     * others, not even for a moment), syncs it, gives it its permissions, and renames it to {@code file}.
     */
    private static void write(Path file, String pem, Set<PosixFilePermission> permissions, boolean replace)
            throws IOException {
        Path directory = file.toAbsolutePath().getParent();
        Path temporary = Files.createTempFile(directory, "." + file.getFileName(), ".tmp");
        try {
            Files.writeString(temporary, pem, StandardCharsets.US_ASCII);
            try (FileChannel channel = FileChannel.open(temporary, StandardOpenOption.WRITE)) {
                channel.force(true);
            }
            if (Files.getFileAttributeView(temporary, PosixFileAttributeView.class) != null) {
                Files.setPosixFilePermissions(temporary, permissions);
            }
            if (replace) {
                Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } else {
                Files.move(temporary, file);
            }
        } finally {
            Files.deleteIfExists(temporary);
        }
    }
}
