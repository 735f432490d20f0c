package dev.regmirror.server;

import static dev.regmirror.server.ClusterNodes.askedAsOwner;
import static dev.regmirror.server.ClusterNodes.awaitLive;
import static dev.regmirror.server.ClusterNodes.blobRequests;
import static dev.regmirror.server.ClusterNodes.manifestRequests;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.regmirror.core.cluster.NodeAddress;
import dev.regmirror.core.cluster.Rendezvous;
import dev.regmirror.core.config.SettingsException;
import dev.regmirror.core.manifest.Descriptor;
import dev.regmirror.core.manifest.MediaTypes;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.testing.BuiltImage;
import dev.regmirror.core.testing.Closing;
import dev.regmirror.core.testing.RegistryProcess;
import dev.regmirror.core.testing.S3ProxyProcess;
import dev.regmirror.core.testing.Skopeo;
import dev.regmirror.core.testing.TestCredentials;
import dev.regmirror.core.testing.TestImages;
import dev.regmirror.core.tls.TlsMaterial;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.time.Clock;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three nodes that reach each other over TLS (a {@code nodes} listener of each, certificates from a
 * test CA in {@code cluster.tls.ca-file}), on one S3Proxy bucket before a real {@code
 * docker-registry}: peers are live through their health checks, a blob miss on a node that does not
 * own it is one upstream GET through its owner, and a tag comes from its owner. An impostor at a
 * node's address with a certificate of another CA never receives a request, the secret least of
 * all: the nodes count it down and fetch by themselves. A {@code self} on a listener of the other
 * kind stops start-up.
 */
class ClusterTlsIT {

    @TempDir
    static Path work;

    private static RegistryProcess upstream;
    private static S3ProxyProcess s3;
    private static Skopeo skopeo;
    private static TestCertificates certificates;
    private static Path chain;
    private static Path key;
    private static ClusterNodes cluster;

    @BeforeAll
    static void start() throws IOException {
        cluster = ClusterNodes.start(work);
        upstream = cluster.upstream();
        s3 = cluster.s3();
        skopeo = cluster.skopeo();
        certificates = new TestCertificates(work.resolve("ca"), "cluster CA");
        chain = work.resolve("node.crt");
        key = work.resolve("node.key");
        certificates.issue(chain, key);
    }

    @AfterAll
    static void stop() throws Exception {
        Closing.all(cluster);
    }

    @AfterEach
    void closeNodes() throws Exception {
        cluster.stopNodes();
    }

    /** A TLS listener named {@code nodes} on {@code port}, with the test CA's certificate for 127.0.0.1. */
    private static Map<String, Object> tlsListener(int port) {
        return Map.of("regmirror.server.listeners.nodes.port", port,
                "regmirror.server.listeners.nodes.tls.certificate", chain.toString(),
                "regmirror.server.listeners.nodes.tls.private-key", key.toString());
    }

    /** Three nodes reaching each other over TLS; the main listener stays plain, for the test's requests. */
    private List<MirrorFixture> tlsCluster(String bucket, String healthInterval) throws Exception {
        return cluster.startNodes(upstream.url(), bucket, Clock.systemUTC(), ClusterTlsIT::tlsListener, Map.of(
                "regmirror.cluster.tls.enabled", true,
                "regmirror.cluster.tls.ca-file", certificates.caFile().toString(),
                "regmirror.cluster.health-interval", healthInterval));
    }

    private static NodeAddress address(MirrorFixture node) {
        return new NodeAddress("127.0.0.1", node.port("nodes"));
    }

    /** {@code node} answers the blob whole and right, and the upstream was asked for it once, by whichever node. */
    private static void assertServedWithOneUpstreamGet(MirrorFixture node, String name, Descriptor blob)
            throws IOException, InterruptedException {
        HttpResponse<byte[]> response = node.get("/v2/" + name + "/blobs/" + blob.digest());
        assertEquals(200, response.statusCode());
        assertEquals(blob.digest(), Digest.sha256Of(response.body()));
        assertEquals(1, upstream.blobGets().stream().filter(get -> get.path().endsWith("/blobs/" + blob.digest()))
                .count(), "one upstream GET: " + upstream.blobGets());
    }

    @Test
    void overTlsPeersAreLiveABlobMissIsOneUpstreamGetThroughItsOwnerAndATagComesFromItsOwner() throws Exception {
        BuiltImage image = TestImages.singleArch(work.resolve("tls-image"), "1.0", 4, 300_000, 211);
        skopeo.copy(image.source(), "docker://" + upstream.hostPort() + "/library/tlsapp:1.0");
        // Started means every node saw the two others answer their health checks over TLS.
        List<MirrorFixture> nodes = tlsCluster("tls", "200ms");
        List<NodeAddress> all = nodes.stream().map(ClusterTlsIT::address).toList();
        int asker = ClusterNodes.askerOfOthers(image.layers(), all, 1);
        MirrorFixture asking = nodes.get(asker);
        Descriptor layer = image.layers().stream()
                .filter(blob -> !Rendezvous.owner(blob.digest(), all).equals(all.get(asker))).findFirst().orElseThrow();
        MirrorFixture owner = nodes.get(all.indexOf(Rendezvous.owner(layer.digest(), all)));
        upstream.reset();

        assertServedWithOneUpstreamGet(asking, "library/tlsapp", layer);
        assertEquals(1.0, blobRequests(asking, "peer"), "the asking node relayed its owner's bytes");
        assertEquals(1.0, askedAsOwner(owner), "the owner was asked once, over TLS");
        assertEquals(0.0, blobRequests(asking, "miss"), "the asking node did not fetch it itself");

        NodeAddress tagOwner = Rendezvous.owner("docker.io/library/tlsapp:1.0", all);
        MirrorFixture other = nodes.stream().filter(node -> !address(node).equals(tagOwner)).findFirst().orElseThrow();
        HttpResponse<byte[]> manifest = other.get("/v2/library/tlsapp/manifests/1.0", "Accept",
                String.join(", ", MediaTypes.OCI_MANIFEST, MediaTypes.DOCKER_MANIFEST));
        assertEquals(200, manifest.statusCode());
        assertEquals(image.digest(), Digest.sha256Of(manifest.body()));
        assertEquals(1.0, manifestRequests(other, "peer"), "the tag came from its owner " + tagOwner);

        // The nodes speak TLS only now: the plain main listener refuses the node endpoint, secret or not.
        String secret = TestCredentials.basic("regmirror-node", ClusterNodes.SECRET);
        HttpResponse<byte[]> plain = other.get("/_regmirror/cluster/health", "Authorization", secret);
        assertEquals(403, plain.statusCode());
        assertTrue(new String(plain.body(), StandardCharsets.UTF_8).contains("\"code\":\"DENIED\",\"message\":"
                + "\"the node endpoint answers over TLS only"), new String(plain.body(), StandardCharsets.UTF_8));
        assertEquals(403, other.get("/_regmirror/cluster/docker.io/v2/library/tlsapp/blobs/" + layer.digest(),
                "Authorization", secret).statusCode());
    }

    /**
     * A node stops and an impostor takes its address, with a certificate for that address from
     * another CA: the TLS handshake fails, so no request (no secret) reaches it, and a blob it would
     * have owned is fetched by the asking node itself, once.
     */
    @Test
    void anImpostorWithACertificateOfAnotherCaIsSentNoRequestAndTheNodeFetchesItself() throws Exception {
        BuiltImage image = TestImages.singleArch(work.resolve("impostor-image"), "1.0", 1, 200_000, 223);
        skopeo.copy(image.source(), "docker://" + upstream.hostPort() + "/library/impostor:1.0");
        // Checks 2 s apart: the blob is asked for before the node notices its owner is gone.
        List<MirrorFixture> nodes = tlsCluster("impostor", "2s");
        List<NodeAddress> all = nodes.stream().map(ClusterTlsIT::address).toList();
        // A blob another node owns, and the node that owns it once that node is gone: the asking node.
        Descriptor layer = image.layers().get(0);
        NodeAddress owner = Rendezvous.owner(layer.digest(), all);
        int gone = all.indexOf(owner);
        int asker = all.indexOf(Rendezvous.owner(layer.digest(), all.stream().filter(node -> !node.equals(owner)).toList()));
        MirrorFixture asking = nodes.get(asker);
        TestCertificates otherCa = new TestCertificates(work.resolve("other-ca"), "another CA");
        TlsMaterial forged = otherCa.issue(work.resolve("forged.crt"), work.resolve("forged.key"));
        cluster.stopNode(nodes.get(gone));
        try (Impostor impostor = new Impostor(all.get(gone).port(), forged)) {
            upstream.reset();

            assertServedWithOneUpstreamGet(asking, "library/impostor", layer);
            assertEquals(1.0, blobRequests(asking, "miss"), "the asking node fetched it itself");
            for (MirrorFixture node : nodes) {
                if (node != nodes.get(gone)) {
                    awaitLive(node, 2);
                }
            }
            assertTrue(impostor.connections.get() > 0, "the nodes did try the impostor's address");
            assertEquals(0, impostor.handshakes.get(), "no node finished a handshake with it");
            assertEquals(0, impostor.bytes.get(), "no request reached it, the secret least of all");
        }
    }

    @Test
    void startUpRefusesSelfOnAListenerOfTheOtherKind() throws Exception {
        int[] ports = ClusterNodes.freePorts(2);
        String self = "127.0.0.1:" + ports[0];
        Map<String, Object> settings = new HashMap<>(s3.storageSettings("refused", ""));
        settings.put("regmirror.cluster.enabled", true);
        settings.put("regmirror.cluster.self", self);
        settings.put("regmirror.cluster.peers", List.of(self, "127.0.0.1:" + ports[1]));
        settings.put("regmirror.cluster.secret", ClusterNodes.SECRET);

        Map<String, Object> tlsOnPlain = new HashMap<>(settings);
        tlsOnPlain.put("regmirror.server.port", ports[0]);
        tlsOnPlain.put("regmirror.cluster.tls.enabled", true);
        tlsOnPlain.put("regmirror.cluster.tls.ca-file", certificates.caFile().toString());
        SettingsException plain = assertThrows(SettingsException.class,
                () -> MirrorFixture.start(upstream.url(), work.resolve("refused-1"), tlsOnPlain).close());
        assertEquals("regmirror.cluster.tls.enabled: true, but regmirror.cluster.self " + self + " is the plain HTTP "
                + "listener regmirror.server (port " + ports[0] + "), and nodes reach each other at https://<peer>: "
                + "name a TLS listener's port in self and peers, or give regmirror.server a tls certificate and "
                + "private-key", plain.getMessage());

        Map<String, Object> plainOnTls = new HashMap<>(settings);
        plainOnTls.putAll(tlsListener(ports[0]));
        SettingsException tls = assertThrows(SettingsException.class,
                () -> MirrorFixture.start(upstream.url(), work.resolve("refused-2"), plainOnTls).close());
        assertEquals("regmirror.cluster.tls.enabled: false, but regmirror.cluster.self " + self + " is the TLS "
                + "listener regmirror.server.listeners.nodes (port " + ports[0] + "), and nodes reach each other at "
                + "http://<peer>: set regmirror.cluster.tls.enabled = true (and its ca-file), or name a plain "
                + "listener's port in self and peers", tls.getMessage());
    }

    /**
     * A TLS server of the JDK's on a node's address with a certificate of another CA: counts the
     * connections it accepts, the handshakes that finish, and the bytes of any request it decrypts.
     */
    private static final class Impostor implements AutoCloseable {

        final AtomicInteger connections = new AtomicInteger();
        final AtomicInteger handshakes = new AtomicInteger();
        final AtomicInteger bytes = new AtomicInteger();
        private final SSLServerSocket socket;

        Impostor(int port, TlsMaterial material) throws Exception {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            char[] password = "impostor".toCharArray();
            store.setKeyEntry("server", material.key(), password, material.chain().toArray(Certificate[]::new));
            KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            keys.init(store, password);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(keys.getKeyManagers(), null, null);
            socket = (SSLServerSocket) context.getServerSocketFactory().createServerSocket();
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), port), 50);
            Thread accepting = new Thread(this::accept, "cluster-tls-impostor");
            accepting.setDaemon(true);
            accepting.start();
        }

        private void accept() {
            while (!socket.isClosed()) {
                try (SSLSocket connection = (SSLSocket) socket.accept()) {
                    connections.incrementAndGet();
                    connection.setSoTimeout(5000);
                    connection.startHandshake();
                    handshakes.incrementAndGet();
                    InputStream in = connection.getInputStream();
                    while (in.read() >= 0) {
                        bytes.incrementAndGet();
                    }
                } catch (IOException refusedOrClosed) {
                    // the client refused the certificate, or the impostor is closing
                }
            }
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}
