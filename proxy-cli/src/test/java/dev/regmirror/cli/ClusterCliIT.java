package dev.regmirror.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.regmirror.core.cluster.NodeAddress;
import dev.regmirror.core.cluster.Rendezvous;
import dev.regmirror.core.manifest.Descriptor;
import dev.regmirror.core.manifest.MediaTypes;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.testing.BuiltImage;
import dev.regmirror.core.testing.RegistryProcess;
import dev.regmirror.core.testing.S3ProxyProcess;
import dev.regmirror.core.testing.Skopeo;
import dev.regmirror.core.testing.TestImages;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 14's proof with real processes: three {@code regmirror serve} JVMs of one cluster (static
 * peers, a secret) on one S3Proxy bucket, in front of a real {@code docker-registry} and of two
 * {@link TricklingRegistry} upstreams (one slow enough that a kill lands mid-fill, one that makes a
 * cold image of any name). skopeo and containerd's {@code ctr} pull through any node; the owner of
 * a big layer killed with SIGKILL mid-fill cuts its streaming clients off on the other nodes, whose
 * retries succeed through the new owner once the death is noticed, with nothing under the digest in
 * the bucket until the verified commit; a node stopped and started again takes its keys back while
 * pulls go on; a purge on one node is seen by another. The tests share one cluster, in order.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterCliIT {

    private static final String SECRET = "cluster-cli-it-secret-0123456789";
    private static final String ADMIN_TOKEN = "cluster-admin-token";
    private static final String BUCKET = "cluster";
    /** C1 and the serial collector, as in {@link CrashLoopIT}: three JVMs start faster on a busy machine. */
    private static final List<String> JVM_FLAGS = List.of("-Xmx256m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC");
    private static final int BIG = 24 * 1024 * 1024;
    private static final long SLOW_RATE = 6L * 1024 * 1024;

    @TempDir
    static Path work;

    private static RegistryProcess upstream;
    private static TricklingRegistry slow;
    private static TricklingRegistry many;
    private static S3ProxyProcess s3;
    private static BuiltImage app;
    private static BuiltImage gone;
    private static final int[] PORTS = new int[3];
    private static final int[] ADMIN_PORTS = new int[3];
    private static final Path[] CONFIGS = new Path[3];
    private static final RegmirrorProcess[] NODES = new RegmirrorProcess[3];
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2)).build();

    @BeforeAll
    static void start() throws Exception {
        upstream = RegistryProcess.start();
        slow = new TricklingRegistry(SLOW_RATE, BIG, 300_000);
        many = new TricklingRegistry(64L * 1024 * 1024, 200_000, 100_000);
        s3 = S3ProxyProcess.start();
        s3.createBucket(BUCKET);
        app = TestImages.singleArch(work.resolve("app"), "1.0", 3, 2_000_000, 141);
        gone = TestImages.singleArch(work.resolve("gone"), "1.0", 1, 50_000, 142);
        try (Skopeo skopeo = new Skopeo()) {
            skopeo.copy(app.source(), "docker://" + upstream.hostPort() + "/library/app:1.0");
            skopeo.copy(gone.source(), "docker://" + upstream.hostPort() + "/library/gone:1.0");
        }
        for (int i = 0; i < 3; i++) {
            PORTS[i] = RegmirrorProcess.freePort();
            ADMIN_PORTS[i] = RegmirrorProcess.freePort();
        }
        String peers = String.join("\", \"", addresses().stream().map(NodeAddress::toString).toList());
        for (int i = 0; i < 3; i++) {
            CONFIGS[i] = RegmirrorProcess.config(work, "node-" + i, PORTS[i], ADMIN_PORTS[i], "cache-" + i,
                    upstream.url().toString(),
                    "regmirror.admin.token = \"" + ADMIN_TOKEN + "\"",
                    "regmirror.upstreams.slow { registry = \"slow.test\", url = \"" + slow.uri() + "\", token-realm = \"\" }",
                    "regmirror.upstreams.many { registry = \"many.test\", url = \"" + many.uri() + "\", token-realm = \"\" }",
                    "regmirror.storage.type = s3",
                    "regmirror.storage.s3 { endpoint = \"" + s3.endpoint() + "\", bucket = " + BUCKET
                            + ", path-style = true, access-key = \"" + S3ProxyProcess.ACCESS_KEY + "\", secret-key = \""
                            + S3ProxyProcess.SECRET_KEY + "\", part-size = 5M }",
                    "regmirror.cluster { enabled = true, self = \"127.0.0.1:" + PORTS[i] + "\", peers = [\"" + peers
                            + "\"], secret = \"" + SECRET + "\" }");
        }
        ExecutorService starting = Executors.newFixedThreadPool(3);
        try {
            List<Future<RegmirrorProcess>> started = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                int node = i;
                started.add(starting.submit(() -> serve(node)));
            }
            for (int i = 0; i < 3; i++) {
                NODES[i] = started.get(i).get();
            }
        } finally {
            starting.shutdown();
        }
        for (int i = 0; i < 3; i++) {
            awaitLive(i, 3);
        }
    }

    @AfterAll
    static void stop() throws Exception {
        for (RegmirrorProcess node : NODES) {
            if (node != null) {
                node.close();
            }
        }
        for (AutoCloseable closing : new AutoCloseable[] {s3, many, slow, upstream}) {
            if (closing != null) {
                closing.close();
            }
        }
    }

    /** Starts node {@code i}; a port a killed node held may take a moment to free, so a failed start is retried. */
    private static RegmirrorProcess serve(int i) throws Exception {
        IllegalStateException failure = null;
        for (int attempt = 0; attempt < 3; attempt++) {
            try {
                return RegmirrorProcess.serve(work, CONFIGS[i], PORTS[i], JVM_FLAGS);
            } catch (IllegalStateException e) {
                failure = e;
                Thread.sleep(500);
            }
        }
        throw failure;
    }

    private static List<NodeAddress> addresses() {
        return Arrays.stream(PORTS).mapToObj(port -> new NodeAddress("127.0.0.1", port)).toList();
    }

    private static int indexOf(NodeAddress node) {
        return addresses().indexOf(node);
    }

    private static String hostPort(int i) {
        return "127.0.0.1:" + PORTS[i];
    }

    private static String metrics(int i) throws IOException, InterruptedException {
        return get(i, "/metrics").body();
    }

    private static HttpResponse<String> get(int i, String path) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(NODES[i].uri(path)).timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<byte[]> getBytes(int i, String path, String... headers)
            throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(NODES[i].uri(path)).timeout(Duration.ofSeconds(60));
        if (headers.length > 0) {
            request.headers(headers);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    /** Waits (at most 30 s) until node {@code i} counts {@code live} live nodes, itself included; returns the ms waited. */
    private static long awaitLive(int i, int live) throws IOException, InterruptedException {
        long start = System.nanoTime();
        long deadline = start + Duration.ofSeconds(30).toNanos();
        while (!metrics(i).contains("regmirror_cluster_nodes_live " + live + ".0")) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(hostPort(i) + " does not see " + live + " live nodes after 30 s");
            }
            Thread.sleep(50);
        }
        return (System.nanoTime() - start) / 1_000_000;
    }

    /** Node {@code i}'s {@code regmirror_blob_requests_total} with this result, over every upstream. */
    private static double blobRequests(int i, String result) throws IOException, InterruptedException {
        double sum = 0;
        for (String line : metrics(i).split("\n")) {
            if (line.startsWith("regmirror_blob_requests_total{") && line.contains("result=\"" + result + "\"")) {
                sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return sum;
    }

    private static String key(Digest digest) {
        return "blobs/" + digest.algorithm() + "/" + digest.hex().substring(0, 2) + "/" + digest.hex();
    }

    private static Digest digestOf(byte[] bytes) {
        return Digest.sha256Of(bytes);
    }

    /** {@code regmirror cluster} against one node: the three nodes live, this one marked, a blob's owner, and the JSON. */
    @Test
    @Order(0)
    void regmirrorClusterListsTheThreeNodesLiveAndABlobsOwner() throws Exception {
        Digest layer = app.blobs().get(app.blobs().size() - 1).digest();
        String server = "http://127.0.0.1:" + ADMIN_PORTS[1];
        RegmirrorProcess.Finished table = RegmirrorProcess.run(work, List.of(), "cluster", "--server", server,
                "--token", ADMIN_TOKEN, "--digest", layer.toString());
        assertEquals(0, table.exitCode(), table.output());
        List<String> lines = table.output().lines().toList();
        assertEquals("3 of 3 nodes live, as " + hostPort(1) + " sees them; peers from list, plain HTTP between the nodes",
                lines.get(0), table.output());
        assertEquals(List.of("NODE", "STATE", "SINCE", "FAILED", "CHECKS", "LAST", "ERROR"),
                List.of(lines.get(1).split(" +")), table.output());
        List<NodeAddress> sorted = addresses().stream().sorted().toList();
        for (int i = 0; i < 3; i++) {
            String row = lines.get(2 + i);
            assertTrue(row.startsWith(sorted.get(i) + (indexOf(sorted.get(i)) == 1 ? " (this node)" : " ")),
                    table.output());
            // A check that failed while the peer was starting stays its last error.
            assertTrue(row.matches(".* live +(-|\\S+Z) +0 +(-|\\S+Z get a health check answer from node .*)"), row);
        }
        assertEquals(layer + " is owned by " + Rendezvous.owner(layer, addresses()), lines.get(5), table.output());

        RegmirrorProcess.Finished json = RegmirrorProcess.run(work, List.of(), "cluster", "--server", server,
                "--token", ADMIN_TOKEN, "-o", "json");
        assertEquals(0, json.exitCode(), json.output());
        com.fasterxml.jackson.databind.JsonNode answer = new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree(json.output());
        assertTrue(answer.path("enabled").asBoolean(), json.output());
        assertEquals(sorted.stream().map(NodeAddress::toString).toList(), answer.findValuesAsText("node"));
        assertEquals(List.of("live", "live", "live"), answer.findValuesAsText("state"));
        System.out.println("ClusterCliIT: regmirror cluster on " + hostPort(1) + ":\n" + table.output()
                + "ClusterCliIT: regmirror cluster -o json:\n" + json.output());
    }

    @Test
    @Order(1)
    void skopeoAndCtrPullOneImageThroughAnyNodeWithEqualDigests() throws Exception {
        Path dir = work.resolve("skopeo-node-0");
        try (Skopeo skopeo = new Skopeo()) {
            skopeo.copyToDir("docker://" + hostPort(0) + "/library/app:1.0", dir);
            assertEquals(app.digest(), digestOf(Files.readAllBytes(dir.resolve("manifest.json"))));
            for (Descriptor blob : app.blobs()) {
                assertEquals(blob.digest(), digestOf(Files.readAllBytes(dir.resolve(blob.digest().hex()))));
            }
            assertEquals(app.digest(), skopeo.inspectDigest("docker://" + hostPort(2) + "/library/app:1.0"));
        }
        for (int i = 0; i < 3; i++) {
            NODES[i].awaitFillsCommitted();
        }
        assertEquals(app.blobs().size(), upstream.blobGets().size(), "each blob once for the cluster: " + upstream.blobGets());

        Path root = Files.createDirectories(work.resolve("containerd"));
        Path socket = root.resolve("containerd.sock");
        Path config = Files.writeString(root.resolve("config.toml"), """
                version = 2
                root = "%s"
                state = "%s"
                disabled_plugins = ["io.containerd.grpc.v1.cri"]
                [grpc]
                  address = "%s"
                """.formatted(root.resolve("root"), root.resolve("state"), socket));
        Process containerd = new ProcessBuilder("containerd", "--config", config.toString())
                .redirectErrorStream(true).redirectOutput(root.resolve("containerd.log").toFile()).start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!Files.exists(socket) && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertTrue(Files.exists(socket), Files.readString(root.resolve("containerd.log")));
            String pulled = exec("ctr", "--address", socket.toString(), "images", "pull", "--plain-http",
                    hostPort(1) + "/library/app:1.0");
            String listed = exec("ctr", "--address", socket.toString(), "images", "ls");
            assertTrue(listed.contains(app.digest().toString()), pulled + "\n" + listed);
        } finally {
            containerd.destroy();
            containerd.waitFor(10, TimeUnit.SECONDS);
        }
    }

    /** Runs a client command that must succeed within 2 minutes; returns its output. */
    private static String exec(String... command) throws Exception {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        byte[] output = process.getInputStream().readAllBytes();
        assertTrue(process.waitFor(120, TimeUnit.SECONDS), String.join(" ", command) + " did not end");
        String text = new String(output, StandardCharsets.UTF_8);
        assertEquals(0, process.exitValue(), String.join(" ", command) + ":\n" + text);
        return text;
    }

    @Test
    @Order(2)
    void theOwnerKilledMidFillCutsItsClientsOffAndTheirRetriesSucceedThroughTheNewOwner() throws Exception {
        TricklingRegistry.Image image = slow.image("library/big");
        Digest layer = Digest.parse(image.blobs().entrySet().stream().filter(blob -> blob.getValue().length == BIG)
                .findFirst().orElseThrow().getKey());
        String path = "/v2/slow.test/library/big/blobs/" + layer;
        String upstreamPath = "/v2/library/big/blobs/" + layer;
        int owner = indexOf(Rendezvous.owner(layer, addresses()));
        List<Integer> askers = List.of((owner + 1) % 3, (owner + 2) % 3);
        List<InputStream> bodies = new ArrayList<>();
        int firstPart = 12 * 1024 * 1024; // past two 5 MiB parts of the owner's upload to the bucket
        for (int asker : askers) {
            HttpResponse<InputStream> response = HTTP.send(HttpRequest.newBuilder(NODES[asker].uri(path)).build(),
                    HttpResponse.BodyHandlers.ofInputStream());
            assertEquals(200, response.statusCode());
            assertEquals(String.valueOf(BIG), response.headers().firstValue("Content-Length").orElse(""));
            bodies.add(response.body());
        }
        for (InputStream body : bodies) {
            assertEquals(firstPart, body.readNBytes(firstPart).length, "bytes arrive while the upstream sends the rest");
        }
        List<String> duringFill = uploadsAndLayer(layer);
        assertFalse(duringFill.contains(key(layer)), "nothing under the digest mid-fill: " + duringFill);
        assertTrue(duringFill.stream().anyMatch(k -> k.contains(layer.hex())),
                "the owner's multipart upload of the layer is under way: " + duringFill);
        System.out.println("ClusterCliIT: the bucket mid-fill, the layer's key and upload objects: " + duringFill);

        NODES[owner].kill();
        long killed = System.nanoTime();
        for (InputStream body : bodies) {
            AtomicReference<Long> more = new AtomicReference<>(0L);
            IOException cut = assertThrows(IOException.class, () -> {
                try (body) {
                    more.set(body.transferTo(OutputStream.nullOutputStream()));
                }
                throw new AssertionError("the response ended normally after " + (firstPart + more.get()) + " bytes");
            });
            System.out.println("ClusterCliIT: a client of a surviving node cut off: " + cut);
        }
        long cutOff = (System.nanoTime() - killed) / 1_000_000;
        List<String> afterKill = uploadsAndLayer(layer);
        assertFalse(afterKill.contains(key(layer)), "no object under the digest after the kill: " + afterKill);
        for (int asker : askers) {
            awaitLive(asker, 2);
        }
        long noticed = (System.nanoTime() - killed) / 1_000_000;

        List<NodeAddress> survivors = askers.stream().map(i -> addresses().get(i)).toList();
        int newOwner = indexOf(Rendezvous.owner(layer, survivors));
        double missesBefore = blobRequests(newOwner, "miss");
        long retrying = System.nanoTime();
        List<CompletableFuture<HttpResponse<byte[]>>> retries = new ArrayList<>();
        for (int asker : askers) {
            retries.add(HTTP.sendAsync(HttpRequest.newBuilder(NODES[asker].uri(path)).build(),
                    HttpResponse.BodyHandlers.ofByteArray()));
        }
        for (CompletableFuture<HttpResponse<byte[]>> retry : retries) {
            assertEquals(200, retry.join().statusCode());
            assertEquals(layer, digestOf(retry.join().body()));
        }
        long retried = (System.nanoTime() - retrying) / 1_000_000;
        assertEquals(missesBefore + 1, blobRequests(newOwner, "miss"), "the new owner ran the one fill");
        assertEquals(2, slow.gets(upstreamPath), "one upstream GET by the killed owner, one by the new");
        NODES[newOwner].awaitFillsCommitted();
        assertTrue(s3.storedKeys(BUCKET).contains(key(layer)), "the verified commit stored the layer");
        assertEquals(layer, digestOf(Files.readAllBytes(s3.storedObject(BUCKET, key(layer)))));
        System.out.println("ClusterCliIT: owner " + hostPort(owner) + " killed mid-fill: both clients cut off within "
                + cutOff + " ms; the survivors noticed within " + noticed + " ms of the kill; the retries through "
                + hostPort(newOwner) + " took " + retried + " ms (" + BIG / 1024 / 1024 + " MiB at "
                + SLOW_RATE / 1024 / 1024 + " MiB/s); upstream GETs of the layer: " + slow.gets(upstreamPath)
                + "; the bucket after the kill: " + afterKill + ", at the end: " + uploadsAndLayer(layer));

        long restarting = System.nanoTime();
        NODES[owner] = serve(owner);
        for (int i = 0; i < 3; i++) {
            awaitLive(i, 3);
        }
        System.out.println("ClusterCliIT: the killed node started again and was live on every node after "
                + (System.nanoTime() - restarting) / 1_000_000 + " ms");
    }

    /**
     * The bucket's objects under the layer's key, and those the S3 back end keeps for multipart
     * uploads in progress: everything but the cache's own prefixes.
     */
    private static List<String> uploadsAndLayer(Digest layer) {
        return s3.storedKeys(BUCKET).stream().filter(k -> k.equals(key(layer)) || !(k.startsWith("blobs/")
                || k.startsWith("changes/") || k.startsWith("tags/") || k.startsWith("repositories/")
                || k.startsWith("manifests/"))).toList();
    }

    /** Pulls image {@code library/<name>:1.0} of the {@code many.test} upstream whole through node {@code i}. */
    private static void pullMany(int i, String name) throws IOException, InterruptedException {
        TricklingRegistry.Image image = many.image("library/" + name);
        HttpResponse<byte[]> manifest = getBytes(i, "/v2/many.test/library/" + name + "/manifests/1.0",
                "Accept", MediaTypes.OCI_MANIFEST);
        if (manifest.statusCode() != 200 || !image.digest().equals(digestOf(manifest.body()))) {
            throw new IOException("manifest of " + name + " through " + hostPort(i) + ": " + manifest.statusCode());
        }
        for (String digest : image.blobs().keySet()) {
            HttpResponse<byte[]> blob = getBytes(i, "/v2/many.test/library/" + name + "/blobs/" + digest);
            if (blob.statusCode() != 200 || !digest.equals(digestOf(blob.body()).toString())) {
                throw new IOException("blob " + digest + " of " + name + " through " + hostPort(i) + ": " + blob.statusCode());
            }
        }
    }

    @Test
    @Order(3)
    void aNodeStoppedAndStartedAgainTakesItsKeysBackWhilePullsGoOn() throws Exception {
        int leaving = 2;
        AtomicBoolean pulling = new AtomicBoolean(true);
        AtomicInteger pulled = new AtomicInteger();
        List<String> failures = new CopyOnWriteArrayList<>();
        ExecutorService load = Executors.newSingleThreadExecutor();
        Future<?> puller = load.submit(() -> {
            for (int n = 0; pulling.get(); n++) {
                try {
                    pullMany(n % 2, "during-" + n);
                    pulled.incrementAndGet();
                } catch (IOException e) {
                    failures.add(e.toString());
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        int beforeStop;
        long stopping;
        long gone;
        int whileTwo;
        int back;
        try {
            while (pulled.get() < 2 && failures.isEmpty()) {
                Thread.sleep(50);
            }
            beforeStop = pulled.get();
            stopping = System.nanoTime();
            NODES[leaving].close();
            awaitLive(0, 2);
            awaitLive(1, 2);
            gone = (System.nanoTime() - stopping) / 1_000_000;
            whileTwo = pulled.get();
            NODES[leaving] = serve(leaving);
            for (int i = 0; i < 3; i++) {
                awaitLive(i, 3);
            }
            back = pulled.get();
            while (pulled.get() < back + 3 && failures.isEmpty()) {
                Thread.sleep(50);
            }
        } finally {
            pulling.set(false);
            load.shutdown();
        }
        puller.get(60, TimeUnit.SECONDS);
        System.out.println("ClusterCliIT: node " + hostPort(leaving) + " stopped (noticed after " + gone
                + " ms) and started again; " + pulled.get() + " cold images pulled through the other two (" + beforeStop
                + " before the stop, " + whileTwo + " by the time it was noticed, " + back + " by the time the node was back), "
                + failures.size() + " failed, in " + (System.nanoTime() - stopping) / 1_000_000 + " ms");
        assertEquals(List.of(), failures, "pulls kept working through the other nodes");
        assertTrue(back > beforeStop, "pulls went on while the node was away: " + beforeStop + ", " + back);

        // Keys move back: a cold blob the returning node owns, asked of another node, is fetched by it.
        List<NodeAddress> all = addresses();
        Digest owned = null;
        String name = null;
        for (int n = 0; owned == null; n++) {
            name = "returning-" + n;
            for (String digest : many.image("library/" + name).blobs().keySet()) {
                if (owned == null && Rendezvous.owner(Digest.parse(digest), all).equals(all.get(leaving))) {
                    owned = Digest.parse(digest);
                }
            }
        }
        double ownerMisses = blobRequests(leaving, "miss");
        double askerPeers = blobRequests(0, "peer");
        HttpResponse<byte[]> blob = getBytes(0, "/v2/many.test/library/" + name + "/blobs/" + owned);
        assertEquals(200, blob.statusCode());
        assertEquals(owned, digestOf(blob.body()));
        assertEquals(ownerMisses + 1, blobRequests(leaving, "miss"), "the returning node fetched the blob it owns");
        assertEquals(askerPeers + 1, blobRequests(0, "peer"), "the asking node streamed it from the returning owner");
        assertEquals(1, many.gets("/v2/library/" + name + "/blobs/" + owned));
    }

    @Test
    @Order(4)
    void aPurgeOnNodeAIsSeenByNodeCWithinSeconds() throws Exception {
        String manifestPath = "/v2/library/gone/manifests/1.0";
        String[] accept = {"Accept", MediaTypes.ACCEPT_ALL_HEADER};
        try (Skopeo skopeo = new Skopeo()) {
            skopeo.copyToDir("docker://" + hostPort(0) + "/library/gone:1.0", work.resolve("gone-through-a"));
        }
        NODES[0].awaitFillsCommitted();
        assertEquals(gone.digest(), digestOf(getBytes(2, manifestPath, accept).body()));
        awaitCatalog(2, true);
        upstream.reset();
        assertEquals(200, getBytes(2, manifestPath, accept).statusCode());
        assertEquals(0, manifestRequests(), "node C answers the tag from its cache before the purge");

        RegmirrorProcess.Finished purge = RegmirrorProcess.run(work, List.of(), "purge", "gone:1.0",
                "--server", "http://127.0.0.1:" + ADMIN_PORTS[0], "--token", ADMIN_TOKEN);
        assertEquals(0, purge.exitCode(), purge.output() + "\nbucket: " + s3.storedKeys(BUCKET).stream()
                .filter(k -> !k.startsWith("changes/")).toList() + "\nnode A's log:\n" + NODES[0].output());
        long purged = System.nanoTime();
        awaitCatalog(2, false);
        long seen = (System.nanoTime() - purged) / 1_000_000;
        HttpResponse<byte[]> again = getBytes(2, manifestPath, accept);
        assertEquals(200, again.statusCode());
        assertEquals(gone.digest(), digestOf(again.body()));
        long asked = manifestRequests();
        assertTrue(asked >= 1, "node C asked the upstream for the purged tag: " + upstream.requests());
        System.out.println("ClusterCliIT: regmirror purge on " + hostPort(0) + ":\n" + purge.output()
                + "ClusterCliIT: node " + hostPort(2) + "'s catalog dropped library/gone " + seen
                + " ms after the purge; its next manifest request made " + asked + " upstream manifest request(s)");
    }

    /**
     * 30 clients spread over the three processes pull one cold image at once (its manifest, then
     * every blob): each gets every digest right, and the upstream sees one GET per blob for the
     * whole cluster.
     */
    @Test
    @Order(5)
    void thirtyClientsOverTheNodesOnOneColdImageMakeOneUpstreamGetPerBlob() throws Exception {
        BuiltImage herd = TestImages.singleArch(work.resolve("herd"), "1.0", 4, 1_500_000, 143);
        try (Skopeo skopeo = new Skopeo()) {
            skopeo.copy(herd.source(), "docker://" + upstream.hostPort() + "/library/herd:1.0");
        }
        upstream.reset();
        ExecutorService clients = Executors.newFixedThreadPool(30);
        try {
            List<Future<List<Digest>>> pulls = new ArrayList<>();
            for (int c = 0; c < 30; c++) {
                int node = c % 3;
                pulls.add(clients.submit(() -> {
                    List<Digest> got = new ArrayList<>();
                    HttpResponse<byte[]> manifest = getBytes(node, "/v2/library/herd/manifests/1.0",
                            "Accept", MediaTypes.ACCEPT_ALL_HEADER);
                    assertEquals(200, manifest.statusCode());
                    got.add(digestOf(manifest.body()));
                    for (Descriptor blob : herd.blobs()) {
                        HttpResponse<byte[]> body = getBytes(node, "/v2/library/herd/blobs/" + blob.digest());
                        assertEquals(200, body.statusCode());
                        got.add(digestOf(body.body()));
                    }
                    return got;
                }));
            }
            List<Digest> expected = new ArrayList<>(List.of(herd.digest()));
            herd.blobs().forEach(blob -> expected.add(blob.digest()));
            for (Future<List<Digest>> pull : pulls) {
                assertEquals(expected, pull.get(120, TimeUnit.SECONDS), "every client, every digest");
            }
        } finally {
            clients.shutdownNow();
        }
        for (Descriptor blob : herd.blobs()) {
            assertEquals(1, upstream.blobGets().stream().filter(get -> get.path().endsWith("/blobs/" + blob.digest()))
                    .count(), "one upstream GET per blob for the cluster: " + upstream.blobGets());
        }
    }

    private static long manifestRequests() {
        return upstream.requests().stream().filter(r -> r.path().startsWith("/v2/library/gone/manifests/")).count();
    }

    /** Waits (at most 15 s) until node {@code i}'s {@code /v2/_catalog} lists {@code library/gone} or not. */
    private static void awaitCatalog(int i, boolean listed) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        String catalog;
        while ((catalog = get(i, "/v2/_catalog").body()).contains("library/gone\"") != listed) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(hostPort(i) + "'s catalog after 15 s: " + catalog);
            }
            Thread.sleep(50);
        }
    }
}
