package dev.regmirror.core.config;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.util.Optional;

/**
 * Reads a {@code ca-file} setting: a PEM file of CA certificates trusted besides the JVM's own,
 * refused at start, naming the setting, when it cannot be read or holds no certificate.
 */
public final class CaFileSetting {

    private CaFileSetting() {
    }

    /** The file {@code value} names, checked; empty for {@code ""}. */
    public static Optional<Path> parse(String setting, String value) {
        if (value.isEmpty()) {
            return Optional.empty();
        }
        Path file = Path.of(value);
        if (!Files.isReadable(file)) {
            throw new SettingsException(setting + ": cannot read " + file);
        }
        try (InputStream in = Files.newInputStream(file)) {
            if (CertificateFactory.getInstance("X.509").generateCertificates(in).isEmpty()) {
                throw new SettingsException(setting + ": " + file + " holds no PEM certificate");
            }
        } catch (IOException | CertificateException e) {
            throw new SettingsException(setting + ": " + file + " is not a PEM certificate file: " + e.getMessage());
        }
        return Optional.of(file);
    }
}
