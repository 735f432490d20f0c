package dev.regmirror.server;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import dev.regmirror.core.config.SettingsException;
import dev.regmirror.core.net.AllowedClients;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Optional;

/**
 * Settings of the admin API's listener, from {@code regmirror.admin}: address, port, TLS, the
 * client ranges it serves and the bearer token, which is required unless the listener is on a
 * loopback address.
 */
public record AdminSettings(ListenerSettings listener, Optional<String> token) {

    /** Reads and validates the settings; refuses a non-loopback address without a token. */
    public static AdminSettings from(Config config) {
        try {
            String at = "regmirror.admin.";
            ListenerSettings listener = ListenerSettings.from(config, at, "admin", config.getString(at + "host"),
                    AllowedClients.ANY);
            String token = config.getString(at + "token");
            Optional<String> configured = token.isEmpty() ? Optional.empty() : Optional.of(token);
            if (configured.isEmpty() && !isLoopback(listener.host())) {
                throw new SettingsException(at + "token: required when the admin API listens on " + listener.host()
                        + ", which is not a loopback address; set regmirror.admin.token (or REGMIRROR_ADMIN_TOKEN),"
                        + " or set regmirror.admin.host to 127.0.0.1");
            }
            return new AdminSettings(listener, configured);
        } catch (ConfigException e) {
            throw new SettingsException("invalid configuration: " + e.getMessage(), e);
        }
    }

    private static boolean isLoopback(String host) {
        try {
            for (InetAddress address : InetAddress.getAllByName(host)) {
                if (!address.isLoopbackAddress()) {
                    return false;
                }
            }
            return true;
        } catch (UnknownHostException e) {
            throw new SettingsException("regmirror.admin.host: cannot resolve " + host, e);
        }
    }

    @Override
    public String toString() {
        return "AdminSettings[listener=" + listener + ", token=" + (token.isPresent() ? "<redacted>" : "none") + "]";
    }
}
