package dev.regmirror.server.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.regmirror.core.cluster.ClusterBlobs;
import dev.regmirror.core.cluster.ClusterSettings;
import dev.regmirror.core.cluster.Membership;
import dev.regmirror.core.cluster.NodeAddress;
import dev.regmirror.core.cluster.Rendezvous;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.testing.MutableClock;
import dev.regmirror.server.http.ErrorResponder;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** {@code GET /admin/cluster}: every node's state, the owner of a digest as the blob path picks it, and a node alone. */
class ClusterHandlerTest {

    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final NodeAddress A = NodeAddress.parse("10.0.0.11:5443");
    private static final NodeAddress B = NodeAddress.parse("10.0.0.12:5443");
    private static final NodeAddress C = NodeAddress.parse("10.0.0.13:5443");
    private static final String SECRET = "cluster-handler-secret-0123456789";
    private static final Instant START = Instant.parse("2026-12-03T10:00:00Z");

    private static EmbeddedChannel channel(Optional<ClusterHandler.Cluster> cluster) {
        ErrorResponder errors = new ErrorResponder(MAPPER);
        return new EmbeddedChannel(new AdminRequestDecoder(errors, CleanupRequestsTest.router()),
                new ClusterHandler(cluster, MAPPER));
    }

    /** GETs {@code uri}, checks the status, and returns the JSON body. */
    private static String ask(EmbeddedChannel channel, String uri, int status) {
        return ask(channel, HttpMethod.GET, uri, status);
    }

    private static String ask(EmbeddedChannel channel, HttpMethod method, String uri, int status) {
        channel.writeInbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, method, uri));
        FullHttpResponse response = channel.readOutbound();
        try {
            assertEquals(status, response.status().code());
            assertEquals("application/json; charset=utf-8", response.headers().get("Content-Type"));
            return response.content().toString(StandardCharsets.UTF_8);
        } finally {
            response.release();
        }
    }

    @Test
    void aClusterListsEveryNodeWithItsStateAndNamesTheOwnerOfADigest() {
        MutableClock clock = new MutableClock(START);
        Membership members = new Membership(A, clock);
        members.peers(List.of(A, B, C));
        members.answered(B);
        members.answered(C);
        clock.advance(Duration.ofSeconds(5));
        members.failed(C, "get a health check answer from node 10.0.0.13:5443: connection refused");
        clock.advance(Duration.ofSeconds(1));
        members.failed(C, "get a health check answer from node 10.0.0.13:5443: connection refused");
        ClusterSettings settings = new ClusterSettings(true, A, List.of(A, B, C), Optional.empty(), SECRET,
                Duration.ofSeconds(1), Duration.ofSeconds(1), Duration.ofSeconds(10),
                new ClusterSettings.Tls(true, Optional.empty()));
        ClusterBlobs owners = new ClusterBlobs(members, (owner, route, digest) -> new CompletableFuture<>());
        EmbeddedChannel channel = channel(Optional.of(new ClusterHandler.Cluster(settings, members, owners)));

        assertEquals("{\"enabled\":true,\"self\":\"10.0.0.11:5443\",\"tls\":true,\"peersFrom\":\"list\",\"nodes\":["
                + "{\"node\":\"10.0.0.11:5443\",\"self\":true,\"state\":\"live\",\"since\":null,\"failedChecks\":0,"
                + "\"lastError\":null,\"lastErrorAt\":null},"
                + "{\"node\":\"10.0.0.12:5443\",\"self\":false,\"state\":\"live\",\"since\":\"2026-12-03T10:00:00Z\","
                + "\"failedChecks\":0,\"lastError\":null,\"lastErrorAt\":null},"
                + "{\"node\":\"10.0.0.13:5443\",\"self\":false,\"state\":\"down\",\"since\":\"2026-12-03T10:00:06Z\","
                + "\"failedChecks\":2,\"lastError\":\"get a health check answer from node 10.0.0.13:5443: connection refused\","
                + "\"lastErrorAt\":\"2026-12-03T10:00:06Z\"}]}", ask(channel, "/admin/cluster", 200));

        // A digest whose owner among all three would be the down node moves to the live one that takes over.
        Digest digest = ownedBy(C, List.of(A, B, C));
        NodeAddress owner = Rendezvous.owner(digest, List.of(A, B));
        assertEquals(owner, owners.owner(digest), "the blob path's owner");
        String answer = ask(channel, "/admin/cluster?digest=" + digest, 200);
        assertEquals("\"digest\":\"" + digest + "\",\"owner\":\"" + owner + "\"}",
                answer.substring(answer.lastIndexOf("\"digest\"")));
        assertFalse(answer.contains(SECRET));
        assertFalse(channel.finishAndReleaseAll());
    }

    @Test
    void peersFromDnsAreNamedSo() {
        ClusterSettings settings = new ClusterSettings(true, A, List.of(), Optional.of(NodeAddress.parse(
                "regmirror-nodes:5443")), SECRET, Duration.ofSeconds(1), Duration.ofSeconds(1), Duration.ofSeconds(10),
                ClusterSettings.Tls.OFF);
        Membership members = new Membership(A, new MutableClock(START));
        EmbeddedChannel channel = channel(Optional.of(new ClusterHandler.Cluster(settings, members,
                new ClusterBlobs(members, (owner, route, digest) -> new CompletableFuture<>()))));
        assertEquals("{\"enabled\":true,\"self\":\"10.0.0.11:5443\",\"tls\":false,\"peersFrom\":\"dns:regmirror-nodes:5443\","
                + "\"nodes\":[{\"node\":\"10.0.0.11:5443\",\"self\":true,\"state\":\"live\",\"since\":null,"
                + "\"failedChecks\":0,\"lastError\":null,\"lastErrorAt\":null}]}", ask(channel, "/admin/cluster", 200));
        assertFalse(channel.finishAndReleaseAll());
    }

    @Test
    void aNodeAloneSaysSoAndABadDigestIsARegistryError() {
        EmbeddedChannel channel = channel(Optional.empty());
        assertEquals("{\"enabled\":false}", ask(channel, "/admin/cluster", 200));
        Digest digest = Digest.sha256Of(new byte[] {1});
        assertEquals("{\"enabled\":false}", ask(channel, "/admin/cluster?digest=" + digest, 200));
        assertEquals("{\"errors\":[{\"code\":\"DIGEST_INVALID\",\"message\":\"invalid digest \\\"sha256:abc\\\"\"}]}",
                ask(channel, "/admin/cluster?digest=sha256:abc", 400));
        assertEquals("{\"errors\":[{\"code\":\"UNSUPPORTED\",\"message\":\"POST /admin/cluster is not supported\"}]}",
                ask(channel, HttpMethod.POST, "/admin/cluster", 405));
        assertFalse(channel.finishAndReleaseAll());
    }

    /** A digest that {@code node} owns among {@code nodes}. */
    private static Digest ownedBy(NodeAddress node, List<NodeAddress> nodes) {
        for (int i = 0; ; i++) {
            Digest digest = Digest.sha256Of(("blob " + i).getBytes(StandardCharsets.UTF_8));
            if (Rendezvous.owner(digest, nodes).equals(node)) {
                return digest;
            }
        }
    }
}
