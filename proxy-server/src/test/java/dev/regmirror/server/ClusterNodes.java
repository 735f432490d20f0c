package dev.regmirror.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.regmirror.core.cluster.NodeAddress;
import dev.regmirror.core.cluster.Rendezvous;
import dev.regmirror.core.manifest.Descriptor;
import dev.regmirror.core.testing.Closing;
import dev.regmirror.core.testing.FreePorts;
import dev.regmirror.core.testing.RegistryProcess;
import dev.regmirror.core.testing.S3ProxyProcess;
import dev.regmirror.core.testing.Skopeo;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.IntFunction;
import java.util.stream.IntStream;

/**
 * The nodes of the cluster ITs: three regmirror nodes on one S3Proxy bucket in front of a real
 * {@code docker-registry}, each reached by the others at {@code 127.0.0.1} on a port of its own,
 * started and stopped here with the processes a test class shares (the registry, S3Proxy, skopeo),
 * and what the tests read of them (live nodes, requests by result, who owns what).
 */
final class ClusterNodes implements AutoCloseable {

    static final String SECRET = "cluster-it-secret-0123456789";

    private final RegistryProcess upstream;
    private final S3ProxyProcess s3;
    private final Skopeo skopeo;
    private final Path work;
    private final List<MirrorFixture> running = new ArrayList<>();

    private ClusterNodes(RegistryProcess upstream, S3ProxyProcess s3, Skopeo skopeo, Path work) {
        this.upstream = upstream;
        this.s3 = s3;
        this.skopeo = skopeo;
        this.work = work;
    }

    /** Starts the registry, S3Proxy and skopeo of a test class; nodes are started per test, under {@code work}. */
    static ClusterNodes start(Path work) {
        RegistryProcess upstream = RegistryProcess.start();
        try {
            S3ProxyProcess s3 = S3ProxyProcess.start();
            try {
                return new ClusterNodes(upstream, s3, new Skopeo(), work);
            } catch (RuntimeException e) {
                s3.close();
                throw e;
            }
        } catch (RuntimeException e) {
            upstream.close();
            throw e;
        }
    }

    RegistryProcess upstream() {
        return upstream;
    }

    S3ProxyProcess s3() {
        return s3;
    }

    Skopeo skopeo() {
        return skopeo;
    }

    /**
     * Three nodes of one cluster on a new bucket, each listing all three; returned once each sees
     * all three live. {@code listener} gives the settings that put a node's registry listener for
     * the other nodes on a port, and {@code settings} what every node has besides.
     */
    List<MirrorFixture> startNodes(URI upstreamUrl, String bucket, Clock clock, IntFunction<Map<String, Object>> listener,
                              Map<String, Object> settings) throws Exception {
        s3.createBucket(bucket);
        int[] ports = freePorts(3);
        List<String> peers = IntStream.of(ports).mapToObj(port -> "127.0.0.1:" + port).toList();
        List<MirrorFixture> nodes = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            Map<String, Object> node = s3.storageSettings(bucket, "");
            node.putAll(listener.apply(ports[i]));
            node.put("regmirror.cluster.enabled", true);
            node.put("regmirror.cluster.self", peers.get(i));
            node.put("regmirror.cluster.peers", peers);
            node.put("regmirror.cluster.secret", SECRET);
            node.put("regmirror.cluster.health-interval", "200ms");
            node.putAll(settings);
            MirrorFixture started = MirrorFixture.start(upstreamUrl, work.resolve(bucket + "-node-" + i), node, clock);
            running.add(started);
            nodes.add(started);
        }
        for (MirrorFixture node : nodes) {
            awaitLive(node, 3);
        }
        return nodes;
    }

    /** Stops one node before the test ends. */
    void stopNode(MirrorFixture node) {
        node.close();
        running.remove(node);
    }

    /** Stops every node still running: after each test. */
    void stopNodes() throws Exception {
        List<MirrorFixture> stopping = List.copyOf(running);
        running.clear();
        Closing.all(stopping.toArray(AutoCloseable[]::new)); // every node, even after one failed
    }

    /** Stops the nodes, skopeo, S3Proxy and the registry: after the test class. */
    @Override
    public void close() throws Exception {
        List<AutoCloseable> all = new ArrayList<>(running);
        running.clear();
        all.addAll(List.of(skopeo, s3, upstream));
        Closing.all(all.toArray(AutoCloseable[]::new));
    }

    static int[] freePorts(int count) throws IOException {
        Set<Integer> ports = new LinkedHashSet<>();
        while (ports.size() < count) {
            ports.add(FreePorts.pick());
        }
        return ports.stream().mapToInt(Integer::intValue).toArray();
    }

    /** Waits (at most 30 s) until {@code node} counts {@code live} live nodes, itself included. */
    static void awaitLive(MirrorFixture node, int live) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!new String(node.get("/metrics").body(), StandardCharsets.UTF_8)
                .contains("regmirror_cluster_nodes_live " + live + ".0")) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(node.hostPort() + " does not see " + live + " live nodes after 30 s");
            }
            Thread.onSpinWait();
        }
    }

    /**
     * The node's {@code GET /admin/cluster} (with {@code query}, {@code ""} or {@code ?digest=...}),
     * which must answer 200, and its nodes by address.
     */
    static ClusterView clusterView(MirrorFixture node, String query) throws IOException, InterruptedException {
        HttpResponse<byte[]> response = node.http().send(HttpRequest.newBuilder(node.adminUri("/admin/cluster" + query))
                .build(), HttpResponse.BodyHandlers.ofByteArray());
        String body = new String(response.body(), StandardCharsets.UTF_8);
        if (response.statusCode() != 200) {
            throw new AssertionError("GET /admin/cluster" + query + " of " + node.hostPort() + ": "
                    + response.statusCode() + " " + body);
        }
        JsonNode json = new ObjectMapper().readTree(body);
        Map<String, JsonNode> nodes = new LinkedHashMap<>();
        json.path("nodes").forEach(entry -> nodes.put(entry.path("node").asText(), entry));
        return new ClusterView(json, nodes, body);
    }

    /** What {@code GET /admin/cluster} answered: the whole JSON, its nodes by address, and the body as sent. */
    record ClusterView(JsonNode json, Map<String, JsonNode> nodes, String body) {

        /** The states of the nodes by address, in the answer's order. */
        Map<String, String> states() {
            Map<String, String> states = new LinkedHashMap<>();
            nodes.forEach((address, node) -> states.put(address, node.path("state").asText()));
            return states;
        }
    }

    /** The node's {@code regmirror.blob.requests} with this result. */
    static double blobRequests(MirrorFixture node, String result) {
        return count(node, "regmirror.blob.requests", result);
    }

    /** The node's {@code regmirror.manifest.requests} with this result. */
    static double manifestRequests(MirrorFixture node, String result) {
        return count(node, "regmirror.manifest.requests", result);
    }

    private static double count(MirrorFixture node, String meter, String result) {
        io.micrometer.core.instrument.Counter counter = node.meters().find(meter).tags("result", result).counter();
        return counter == null ? 0 : counter.count();
    }

    /** The blob requests other nodes made of this one, as their owner. */
    static double askedAsOwner(MirrorFixture node) {
        io.micrometer.core.instrument.Counter counter = node.meters().find("regmirror.cluster.blob.requests").counter();
        return counter == null ? 0 : counter.count();
    }

    /**
     * The first node for which at least {@code atLeast} of the blobs are owned by other nodes. The
     * nodes' ports are random, and so is who owns what: node 0 owning all but one of eight layers
     * happened in a CI run. Of three nodes, at most one can own more than half of them.
     */
    static int askerOfOthers(List<Descriptor> blobs, List<NodeAddress> all, int atLeast) {
        return IntStream.range(0, all.size()).filter(i -> blobs.stream()
                .filter(blob -> !Rendezvous.owner(blob.digest(), all).equals(all.get(i))).count() >= atLeast)
                .findFirst().orElseThrow();
    }
}
