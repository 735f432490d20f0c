package dev.regmirror.core.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import dev.regmirror.core.config.ConfigLoader;
import dev.regmirror.core.config.MirrorSettings;
import dev.regmirror.core.config.SettingsException;
import dev.regmirror.core.tls.LocalCa;
import dev.regmirror.core.tls.PemFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code regmirror.cluster}: off by default, read from the file and the environment, and the combinations it refuses. */
class ClusterSettingsTest {

    private static final String S3 = "regmirror.storage { type = s3, s3.bucket = b }\n";
    private static final String SECRET = "0123456789abcdef0123";

    @TempDir
    Path dir;

    private ClusterSettings load(String conf, Map<String, String> environment) throws IOException {
        Path file = dir.resolve("application.conf");
        Files.writeString(file, conf);
        Config config = ConfigLoader.load(Optional.of(file), environment);
        return ClusterSettings.from(config, MirrorSettings.from(config).storage());
    }

    private void assertRefused(String conf, String message) {
        SettingsException e = assertThrows(SettingsException.class, () -> load(conf, Map.of()));
        assertTrue(e.getMessage().startsWith(message), e.getMessage());
    }

    @Test
    void offByDefault() throws IOException {
        assertFalse(load("", Map.of()).enabled());
    }

    @Test
    void aStaticClusterFromTheFile() throws IOException {
        ClusterSettings settings = load(S3 + """
                regmirror.cluster { enabled = true, self = "10.0.0.2:5000", secret = "%s",
                  peers = ["10.0.0.1:5000", "10.0.0.2:5000", "[fd00::3]:5000"], health-interval = 2s }
                """.formatted(SECRET), Map.of());
        assertTrue(settings.enabled());
        assertEquals(NodeAddress.parse("10.0.0.2:5000"), settings.self());
        assertEquals(List.of(new NodeAddress("10.0.0.1", 5000), new NodeAddress("10.0.0.2", 5000),
                new NodeAddress("fd00::3", 5000)), settings.peers());
        assertEquals("http://[fd00::3]:5000", settings.url(settings.peers().get(2)));
        assertEquals(ClusterSettings.Tls.OFF, settings.tls());
        assertEquals(Optional.empty(), settings.peerCertificateName());
        assertEquals(Duration.ofSeconds(2), settings.healthInterval());
        assertEquals(Duration.ofSeconds(1), settings.healthTimeout());
        assertTrue(settings.peersDns().isEmpty());
    }

    @Test
    void theEnvironmentSetsEveryPartPeersAsACommaSeparatedList() throws IOException {
        ClusterSettings settings = load(S3, Map.of("REGMIRROR_CLUSTER_ENABLED", "true",
                "REGMIRROR_CLUSTER_SELF", "node-b:5000", "REGMIRROR_CLUSTER_PEERS", "node-a:5000, node-b:5000",
                "REGMIRROR_CLUSTER_SECRET", SECRET));
        assertEquals(List.of(NodeAddress.parse("node-a:5000"), NodeAddress.parse("node-b:5000")), settings.peers());
        assertEquals(SECRET, settings.secret());
        ClusterSettings dns = load(S3, Map.of("REGMIRROR_CLUSTER_ENABLED", "true",
                "REGMIRROR_CLUSTER_SELF", "10.1.2.3:5000", "REGMIRROR_CLUSTER_PEERS_DNS", "regmirror.ns.svc",
                "REGMIRROR_CLUSTER_SECRET", SECRET));
        assertEquals(Optional.of(NodeAddress.parse("regmirror.ns.svc:5000")), dns.peersDns(),
                "the DNS name's port is self's unless given");
        assertEquals(List.of(), dns.peers());
    }

    @Test
    void refusedCombinationsNameTheSetting() {
        String cluster = "regmirror.cluster { enabled = true, self = \"10.0.0.2:5000\", secret = \"" + SECRET
                + "\", peers = [\"10.0.0.1:5000\", \"10.0.0.2:5000\"] }\n";
        assertRefused(cluster, "regmirror.cluster.enabled: the nodes of a cluster share one bucket");
        assertRefused(S3 + cluster + "regmirror.cluster.secret = \"\"", "regmirror.cluster.secret: required");
        assertRefused(S3 + cluster + "regmirror.cluster.secret = short", "regmirror.cluster.secret: required");
        assertRefused(S3 + cluster + "regmirror.cluster.self = \"10.0.0.9:5000\"",
                "regmirror.cluster.self: 10.0.0.9:5000 is not among regmirror.cluster.peers");
        assertRefused(S3 + cluster + "regmirror.cluster.self = \"\"", "regmirror.cluster.self: host:port expected");
        assertRefused(S3 + cluster + "regmirror.cluster.peers = [\"10.0.0.1\"]",
                "regmirror.cluster.peers: host:port expected");
        assertRefused(S3 + cluster + "regmirror.cluster.peers-dns = \"regmirror.ns.svc\"",
                "regmirror.cluster.peers: give the nodes either as a list");
        assertRefused(S3 + cluster + "regmirror.cluster.peers = []", "regmirror.cluster.peers: give the nodes");
        assertRefused(S3 + cluster + "regmirror.cluster.health-interval = 0s",
                "regmirror.cluster.health-interval: must be positive");
    }

    @Test
    void tlsFromTheFileReachesPeersAtHttpsCheckedAgainstTheirHosts() throws IOException {
        Path ca = writeCa();
        ClusterSettings settings = load(S3 + """
                regmirror.cluster { enabled = true, self = "node-b.lan:5443", secret = "%s",
                  peers = ["node-a.lan:5443", "node-b.lan:5443", "[fd00::3]:5443"],
                  tls { enabled = true, ca-file = "%s" } }
                """.formatted(SECRET, ca), Map.of());
        assertEquals(new ClusterSettings.Tls(true, Optional.of(ca)), settings.tls());
        assertEquals("https://node-a.lan:5443", settings.url(settings.peers().get(0)));
        assertEquals("https://[fd00::3]:5443", settings.url(settings.peers().get(2)));
        assertEquals(Optional.empty(), settings.peerCertificateName(), "fixed peers: each against its own host");
    }

    @Test
    void tlsFromTheEnvironmentWithPeersDnsChecksCertificatesAgainstTheDnsName() throws IOException {
        Path ca = writeCa();
        ClusterSettings settings = load(S3, Map.of("REGMIRROR_CLUSTER_ENABLED", "true",
                "REGMIRROR_CLUSTER_SELF", "10.1.2.3:5443", "REGMIRROR_CLUSTER_PEERS_DNS", "regmirror-nodes.ns.svc",
                "REGMIRROR_CLUSTER_SECRET", SECRET, "REGMIRROR_CLUSTER_TLS_ENABLED", "true",
                "REGMIRROR_CLUSTER_TLS_CA_FILE", ca.toString()));
        assertEquals(new ClusterSettings.Tls(true, Optional.of(ca)), settings.tls());
        assertEquals("https://10.1.2.4:5443", settings.url(new NodeAddress("10.1.2.4", 5443)));
        assertEquals(Optional.of("regmirror-nodes.ns.svc"), settings.peerCertificateName());
        ClusterSettings plain = load(S3, Map.of("REGMIRROR_CLUSTER_ENABLED", "true",
                "REGMIRROR_CLUSTER_SELF", "10.1.2.3:5000", "REGMIRROR_CLUSTER_PEERS_DNS", "regmirror-nodes.ns.svc",
                "REGMIRROR_CLUSTER_SECRET", SECRET, "REGMIRROR_CLUSTER_TLS_ENABLED", "false"));
        assertEquals(ClusterSettings.Tls.OFF, plain.tls());
        assertEquals(Optional.empty(), plain.peerCertificateName(), "no certificates without TLS");
    }

    @Test
    void aCaFileThatCannotBeReadOrHoldsNoCertificateIsRefusedNamingTheSetting() throws IOException {
        String cluster = S3 + "regmirror.cluster { enabled = true, self = \"10.0.0.2:5443\", secret = \"" + SECRET
                + "\", peers = [\"10.0.0.1:5443\", \"10.0.0.2:5443\"], tls.enabled = true }\n";
        Path missing = dir.resolve("missing.crt");
        assertRefused(cluster + "regmirror.cluster.tls.ca-file = \"" + missing + "\"",
                "regmirror.cluster.tls.ca-file: cannot read " + missing);
        Path empty = Files.writeString(dir.resolve("empty.crt"), "");
        assertRefused(cluster + "regmirror.cluster.tls.ca-file = \"" + empty + "\"",
                "regmirror.cluster.tls.ca-file: " + empty + " holds no PEM certificate");
        Path garbage = Files.writeString(dir.resolve("garbage.crt"), "-----BEGIN CERTIFICATE-----\nnot base64!\n"
                + "-----END CERTIFICATE-----\n");
        assertRefused(cluster + "regmirror.cluster.tls.ca-file = \"" + garbage + "\"",
                "regmirror.cluster.tls.ca-file: " + garbage + " is not a PEM certificate file");
    }

    /** The certificate of a CA as {@code regmirror tls init} makes one, as PEM. */
    private Path writeCa() throws IOException {
        LocalCa ca = LocalCa.create("cluster settings test CA", Clock.systemUTC());
        Path file = dir.resolve("ca.crt");
        PemFiles.write(ca.material(), file, dir.resolve("ca.key"), true);
        return file;
    }
}
