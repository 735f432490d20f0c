package dev.regmirror.server;

import com.typesafe.config.Config;
import dev.regmirror.core.config.SettingsException;
import dev.regmirror.core.net.AllowedClients;
import dev.regmirror.core.tls.SettingFile;
import java.nio.file.Path;
import java.util.Optional;

/**
 * One listener: its address and port, TLS (a certificate and key) or plain HTTP, and the client
 * address ranges it serves; read from a block such as {@code regmirror.server} or
 * {@code regmirror.server.listeners.<name>}.
 *
 * @param name the listener's name in logs: {@code registry}, {@code admin}, or its key under
 *             {@code regmirror.server.listeners}
 */
public record ListenerSettings(String name, String host, int port, Optional<TlsSettings> tls, AllowedClients allowed) {

    /**
     * Reads the listener at {@code at} (a path ending in a dot); {@code host} and {@code allow}
     * default to the given values when the block has none.
     */
    static ListenerSettings from(Config config, String at, String name, String defaultHost,
                                 AllowedClients defaultAllowed) {
        String host = config.hasPath(at + "host") ? config.getString(at + "host") : defaultHost;
        if (!config.hasPath(at + "port")) {
            throw new SettingsException(at + "port: every listener needs a port");
        }
        int port = config.getInt(at + "port");
        if (port < 0 || port > 65535) {
            throw new SettingsException(at + "port: must be 0 to 65535, was " + port);
        }
        AllowedClients allowed = defaultAllowed;
        if (config.hasPath(at + "allow")) {
            try {
                allowed = AllowedClients.parse(config.getStringList(at + "allow"));
            } catch (IllegalArgumentException e) {
                throw new SettingsException(at + "allow: " + e.getMessage(), e);
            }
        }
        return new ListenerSettings(name, host, port, tls(config, at + "tls."), allowed);
    }

    private static Optional<TlsSettings> tls(Config config, String at) {
        String certificate = config.hasPath(at + "certificate") ? config.getString(at + "certificate") : "";
        String key = config.hasPath(at + "private-key") ? config.getString(at + "private-key") : "";
        if (certificate.isEmpty() && key.isEmpty()) {
            return Optional.empty();
        }
        if (certificate.isEmpty() || key.isEmpty()) {
            throw new SettingsException(at + (certificate.isEmpty() ? "certificate" : "private-key")
                    + ": TLS needs both " + at + "certificate and " + at + "private-key");
        }
        return Optional.of(new TlsSettings(new SettingFile(at + "certificate", Path.of(certificate)),
                new SettingFile(at + "private-key", Path.of(key))));
    }

    /** {@code https://host:port} or {@code http://host:port}, for log lines. */
    public String describe(int boundPort) {
        return (tls.isPresent() ? "https://" : "http://") + host + ":" + boundPort;
    }
}
