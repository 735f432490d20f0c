package dev.regmirror.server;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import dev.regmirror.core.cluster.ClusterSettings;
import dev.regmirror.core.config.SettingsException;
import dev.regmirror.core.net.AllowedClients;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslProvider;
import dev.regmirror.server.pipeline.LimitSettings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/**
 * Settings of the registry API's listeners and of the server's threads, from
 * {@code regmirror.server}: the main listener ({@code host}, {@code port}, {@code tls},
 * {@code allow}) and any more under {@code listeners.<name>}, say a TLS port beside a plain one.
 *
 * @param listeners         the main listener first
 * @param tlsReloadInterval how often certificate and key files are checked for a change
 * @param limits            what every client of every listener is held to
 * @param accessLog         where the access log of every listener goes
 */
public record ServerSettings(List<ListenerSettings> listeners, Duration idleTimeout, int diskThreads,
                             int eventLoopThreads, Duration tlsReloadInterval, TlsProvider tlsProvider,
                             LimitSettings limits, AccessLogSettings accessLog) {

    /** Which TLS implementation serves the TLS listeners. */
    public enum TlsProvider {
        /** BoringSSL when its native library loads here, else the JDK's. */
        auto,
        /** BoringSSL (netty-tcnative), OpenSSL's API; start-up fails where it cannot load. */
        openssl,
        /** The JDK's own (SunJSSE). */
        jdk;

        /** Netty's provider for this choice. */
        public SslProvider resolve() {
            return switch (this) {
                case auto -> OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK;
                case openssl -> {
                    if (!OpenSsl.isAvailable()) {
                        throw new SettingsException("regmirror.server.tls-provider: openssl cannot load here: "
                                + OpenSsl.unavailabilityCause());
                    }
                    yield SslProvider.OPENSSL;
                }
                case jdk -> SslProvider.JDK;
            };
        }
    }

    public ServerSettings {
        listeners = List.copyOf(listeners);
    }

    /** Reads and validates the settings from a resolved configuration. */
    public static ServerSettings from(Config config) {
        try {
            String at = "regmirror.server.";
            Duration idle = positive(config, at + "idle-timeout");
            int diskThreads = config.getInt(at + "disk-threads");
            if (diskThreads < 1) {
                throw new SettingsException(at + "disk-threads: must be at least 1, was " + diskThreads);
            }
            int loops = config.getInt(at + "event-loop-threads");
            if (loops < 0) {
                throw new SettingsException(at + "event-loop-threads: must be 0 or more, was " + loops);
            }
            ListenerSettings main = ListenerSettings.from(config, at, "registry", config.getString(at + "host"),
                    AllowedClients.ANY);
            List<ListenerSettings> listeners = new ArrayList<>(List.of(main));
            for (String name : new TreeSet<>(config.getObject(at + "listeners").keySet())) {
                if (!name.matches("[a-z0-9][a-z0-9-]*")) {
                    throw new SettingsException(at + "listeners." + name + ": a listener's name is lower-case letters,"
                            + " digits and '-'");
                }
                // The name's characters need no quoting in a path.
                listeners.add(ListenerSettings.from(config, at + "listeners." + name + ".", name, main.host(),
                        AllowedClients.ANY));
            }
            return new ServerSettings(listeners, idle, diskThreads, loops, positive(config, at + "tls-reload-interval"),
                    config.getEnum(TlsProvider.class, at + "tls-provider"), LimitSettings.from(config),
                    AccessLogSettings.from(config, at + "access-log."));
        } catch (ConfigException e) {
            throw new SettingsException("invalid configuration: " + e.getMessage(), e);
        }
    }

    private static Duration positive(Config config, String path) {
        Duration value = config.getDuration(path);
        if (value.isNegative() || value.isZero()) {
            throw new SettingsException(path + ": must be positive, was " + value);
        }
        return value;
    }

    /**
     * Refuses a cluster the other nodes could not talk to: {@code cluster.self} on the port of a
     * plain listener of this node with {@code cluster.tls} on, or of a TLS listener with it off
     * (every node request would fail). A port no listener here has (a port mapped in front of the
     * node) is not checked.
     */
    public void checkNodeListener(ClusterSettings cluster) {
        if (!cluster.enabled()) {
            return;
        }
        boolean tls = cluster.tls().enabled();
        for (ListenerSettings listener : listeners) {
            if (listener.port() != cluster.self().port() || listener.tls().isPresent() == tls) {
                continue;
            }
            String at = listener == main() ? "regmirror.server" : "regmirror.server.listeners." + listener.name();
            throw new SettingsException(tls
                    ? "regmirror.cluster.tls.enabled: true, but regmirror.cluster.self " + cluster.self()
                            + " is the plain HTTP listener " + at + " (port " + listener.port() + "), and nodes reach"
                            + " each other at https://<peer>: name a TLS listener's port in self and peers, or give "
                            + at + " a tls certificate and private-key"
                    : "regmirror.cluster.tls.enabled: false, but regmirror.cluster.self " + cluster.self()
                            + " is the TLS listener " + at + " (port " + listener.port() + "), and nodes reach each"
                            + " other at http://<peer>: set regmirror.cluster.tls.enabled = true (and its ca-file),"
                            + " or name a plain listener's port in self and peers");
        }
    }

    /** The main listener: {@code regmirror.server.host/port}. */
    public ListenerSettings main() {
        return listeners.get(0);
    }
}
