package dev.regmirror.core.cluster;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigValueType;
import dev.regmirror.core.config.CaFileSetting;
import dev.regmirror.core.config.SettingsException;
import dev.regmirror.core.config.StorageSettings;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The {@code regmirror.cluster} settings: whether this node is one of several on one bucket, the
 * address other nodes reach it at, its peers (a fixed list, or a DNS name whose records are the
 * peers), the secret nodes prove themselves with, how often peers are checked, and whether nodes
 * speak TLS to each other.
 *
 * @param peers     the fixed peers, this node among them; empty when {@code peersDns} is given
 * @param peersDns  a DNS name and the port its addresses answer on, looked up again every {@code dnsInterval}
 */
public record ClusterSettings(boolean enabled, NodeAddress self, List<NodeAddress> peers,
                              Optional<NodeAddress> peersDns, String secret, Duration healthInterval,
                              Duration healthTimeout, Duration dnsInterval, Tls tls) {

    /**
     * {@code regmirror.cluster.tls}: whether nodes reach each other over HTTPS, and a PEM file of CA
     * certificates trusted for the nodes' certificates besides the JVM's own.
     */
    public record Tls(boolean enabled, Optional<Path> caFile) {

        /** Plain HTTP between the nodes. */
        public static final Tls OFF = new Tls(false, Optional.empty());

        public Tls {
            Objects.requireNonNull(caFile, "caFile");
        }
    }

    /** Shorter secrets are refused: the secret is all that keeps clients off the node endpoint. */
    static final int MIN_SECRET_LENGTH = 16;

    public ClusterSettings {
        Objects.requireNonNull(self, "self");
        peers = List.copyOf(peers);
        Objects.requireNonNull(peersDns, "peersDns");
        Objects.requireNonNull(secret, "secret");
        Objects.requireNonNull(healthInterval, "healthInterval");
        Objects.requireNonNull(healthTimeout, "healthTimeout");
        Objects.requireNonNull(dnsInterval, "dnsInterval");
        Objects.requireNonNull(tls, "tls");
    }

    /** A node on its own. */
    public static ClusterSettings disabled() {
        return new ClusterSettings(false, new NodeAddress("localhost", 5000), List.of(), Optional.empty(), "",
                Duration.ofSeconds(1), Duration.ofSeconds(1), Duration.ofSeconds(10), Tls.OFF);
    }

    /** The base URL this node reaches {@code node} at: {@code https://} with TLS on, else {@code http://}. */
    public String url(NodeAddress node) {
        return (tls.enabled() ? "https://" : "http://") + node;
    }

    /**
     * The name a peer's certificate must be valid for (and sent as SNI) when it is not the peer's
     * host: with TLS and {@code peers-dns}, the DNS name, since its addresses are rarely in a
     * certificate; empty with fixed peers, each checked against its host as written.
     */
    public Optional<String> peerCertificateName() {
        return tls.enabled() ? peersDns.map(NodeAddress::host) : Optional.empty();
    }

    /** The secret's bytes, as compared. */
    public byte[] secretBytes() {
        return secret.getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Reads {@code regmirror.cluster}, refusing combinations that cannot work with the setting to
     * change: a cluster needs the cache in a bucket all nodes share, a secret, and itself among its
     * fixed peers.
     */
    public static ClusterSettings from(Config config, StorageSettings storage) {
        try {
            Config c = config.getConfig("regmirror.cluster");
            if (!c.getBoolean("enabled")) {
                return disabled();
            }
            String at = "regmirror.cluster.";
            if (storage.type() != StorageSettings.Type.S3) {
                throw new SettingsException(at + "enabled: the nodes of a cluster share one bucket: set "
                        + "regmirror.storage.type = s3 (and the same regmirror.storage.s3 on every node)");
            }
            NodeAddress self = address(at + "self", c.getString("self"));
            String secret = c.getString("secret");
            if (secret.length() < MIN_SECRET_LENGTH) {
                throw new SettingsException(at + "secret: required, at least " + MIN_SECRET_LENGTH
                        + " characters, the same on every node (openssl rand -hex 32)");
            }
            List<NodeAddress> peers = new ArrayList<>();
            for (String peer : list(c, "peers")) {
                NodeAddress address = address(at + "peers", peer);
                if (!peers.contains(address)) {
                    peers.add(address);
                }
            }
            String dns = c.getString("peers-dns");
            Optional<NodeAddress> peersDns = dns.isEmpty() ? Optional.empty()
                    : Optional.of(address(at + "peers-dns", dns.indexOf(':') < 0 ? dns + ":" + self.port() : dns));
            if (peers.isEmpty() == peersDns.isEmpty()) {
                throw new SettingsException(at + "peers: give the nodes either as a list (peers = [\"10.0.0.1:5000\", "
                        + "...]) or as a DNS name (peers-dns = \"regmirror.ns.svc.cluster.local\"), not both or neither");
            }
            if (peersDns.isEmpty() && !peers.contains(self)) {
                throw new SettingsException(at + "self: " + self + " is not among regmirror.cluster.peers " + peers
                        + ": every node lists all nodes, itself too, spelled the same way");
            }
            Duration interval = positive(at + "health-interval", c.getDuration("health-interval"));
            Duration timeout = positive(at + "health-timeout", c.getDuration("health-timeout"));
            Duration dnsInterval = positive(at + "dns-interval", c.getDuration("dns-interval"));
            Tls tls = new Tls(c.getBoolean("tls.enabled"), CaFileSetting.parse(at + "tls.ca-file",
                    c.getString("tls.ca-file")));
            return new ClusterSettings(true, self, peers, peersDns, secret, interval, timeout, dnsInterval, tls);
        } catch (ConfigException e) {
            throw new SettingsException("invalid configuration: " + e.getMessage(), e);
        }
    }

    /** A list, or one comma-separated string (as an environment variable gives it). */
    private static List<String> list(Config c, String key) {
        if (c.getValue(key).valueType() == ConfigValueType.STRING) {
            return List.of(c.getString(key).split(",")).stream().map(String::trim).filter(s -> !s.isEmpty()).toList();
        }
        return c.getStringList(key);
    }

    private static NodeAddress address(String setting, String value) {
        try {
            return NodeAddress.parse(value.trim());
        } catch (IllegalArgumentException e) {
            throw new SettingsException(setting + ": " + e.getMessage());
        }
    }

    private static Duration positive(String setting, Duration value) {
        if (value.isNegative() || value.isZero()) {
            throw new SettingsException(setting + ": must be positive, was " + value);
        }
        return value;
    }
}
