package dev.regmirror.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import static dev.regmirror.server.ClusterNodes.askedAsOwner;
import static dev.regmirror.server.ClusterNodes.askerOfOthers;
import static dev.regmirror.server.ClusterNodes.awaitLive;
import static dev.regmirror.server.ClusterNodes.blobRequests;
import static dev.regmirror.server.ClusterNodes.clusterView;
import static dev.regmirror.server.ClusterNodes.manifestRequests;

import com.fasterxml.jackson.databind.JsonNode;
import dev.regmirror.core.cluster.NodeAddress;
import dev.regmirror.core.cluster.Rendezvous;
import dev.regmirror.core.manifest.Descriptor;
import dev.regmirror.core.manifest.MediaTypes;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.testing.BuiltImage;
import dev.regmirror.core.testing.Closing;
import dev.regmirror.core.testing.MutableClock;
import dev.regmirror.core.testing.RegistryProcess;
import dev.regmirror.core.testing.S3ProxyProcess;
import dev.regmirror.core.testing.Skopeo;
import dev.regmirror.core.testing.TestCredentials;
import dev.regmirror.core.testing.TestImages;
import dev.regmirror.server.console.Browser;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.ExpectedConditions;

/**
 * Three regmirror nodes on one S3Proxy bucket in front of a real {@code docker-registry}: a herd of
 * clients spread over the nodes on one cold blob makes one upstream GET, at most one request of the
 * owner per other node (its relay, which all its clients share), and gets identical bytes;
 * an image pulled through one node is served by another without the upstream; the node endpoint
 * refuses requests without the cluster's secret; a node whose owner is gone fetches by itself; a
 * client on another node streams the owner's bytes before the fill ends, and sees its response
 * cut off (never a short 200) when the owner dies mid-transfer; a tag asked for on every node is
 * revalidated with the upstream once per cluster per TTL, by its owner, and still answered when
 * its owner is gone; a node's console shows the nodes, a stopped one down, and who owns a blob.
 */
class ClusterIT {

    private static final String SECRET = ClusterNodes.SECRET;

    @TempDir
    static Path work;

    private static RegistryProcess upstream;
    private static S3ProxyProcess s3;
    private static Skopeo skopeo;
    private static ClusterNodes cluster;

    @BeforeAll
    static void start() {
        cluster = ClusterNodes.start(work);
        upstream = cluster.upstream();
        s3 = cluster.s3();
        skopeo = cluster.skopeo();
    }

    @AfterAll
    static void stop() throws Exception {
        Closing.all(cluster);
    }

    @AfterEach
    void closeNodes() throws Exception {
        cluster.stopNodes();
    }

    /** Three nodes of one cluster on a new bucket, each listing all three; returned once each sees all three live. */
    private List<MirrorFixture> cluster(URI upstreamUrl, String bucket) throws Exception {
        return cluster(upstreamUrl, bucket, Clock.systemUTC());
    }

    /** As {@link #cluster(URI, String)}, every node reading time from {@code clock}. */
    private List<MirrorFixture> cluster(URI upstreamUrl, String bucket, Clock clock) throws Exception {
        return cluster.startNodes(upstreamUrl, bucket, clock, port -> Map.of("regmirror.server.port", port), Map.of());
    }

    private static NodeAddress address(MirrorFixture node) {
        return NodeAddress.parse(node.hostPort());
    }

    private static long upstreamGetsOf(Digest digest) {
        return upstream.blobGets().stream().filter(get -> get.path().endsWith("/blobs/" + digest)).count();
    }

    @Test
    void thirtyClientsOverThreeNodesOnOneColdBlobMakeOneUpstreamGetAndGetIdenticalBytes() throws Exception {
        BuiltImage image = TestImages.singleArch(work.resolve("herd-image"), "1.0", 1, 8_000_000, 71);
        skopeo.copy(image.source(), "docker://" + upstream.hostPort() + "/library/herd:1.0");
        List<MirrorFixture> nodes = cluster(upstream.url(), "herd");
        Digest layer = image.manifest().layers().get(0).digest();
        upstream.reset();
        List<CompletableFuture<HttpResponse<byte[]>>> herd = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            MirrorFixture node = nodes.get(i % 3);
            herd.add(node.http().sendAsync(node.request("/v2/library/herd/blobs/" + layer).GET().build(),
                    HttpResponse.BodyHandlers.ofByteArray()));
        }
        for (CompletableFuture<HttpResponse<byte[]>> response : herd) {
            assertEquals(200, response.join().statusCode());
            assertEquals(layer, Digest.sha256Of(response.join().body()));
        }
        for (MirrorFixture node : nodes) {
            node.awaitFillsCommitted();
        }
        assertEquals(1, upstreamGetsOf(layer), "one upstream GET for the whole cluster: " + upstream.blobGets());
        List<NodeAddress> all = nodes.stream().map(ClusterIT::address).toList();
        NodeAddress owner = Rendezvous.owner(layer, all);
        MirrorFixture owning = nodes.get(all.indexOf(owner));
        assertEquals(1.0, blobRequests(owning, "miss"), "one fill, the owner's");
        assertEquals(1.0, nodes.stream().mapToDouble(node -> blobRequests(node, "miss")).sum(), "no other node fetched");
        double asked = askedAsOwner(owning);
        assertTrue(asked >= 1 && asked <= 2, "at most one stream from the owner per other node, not one per client: "
                + asked);
        for (MirrorFixture node : nodes) {
            if (node != owning) {
                assertEquals(0.0, askedAsOwner(node), node.hostPort() + " owns nothing here");
                assertTrue(blobRequests(node, "peer") <= 1.0, node.hostPort() + " relays the owner's bytes once");
                assertEquals(10.0, blobRequests(node, "peer") + blobRequests(node, "shared") + blobRequests(node, "hit"),
                        node.hostPort() + ": its other clients joined its relay (or found the blob stored)");
            }
        }
        // What an operator sees on any node: all three live, and the owner the blob path used.
        ClusterNodes.ClusterView view = clusterView(nodes.get(1), "?digest=" + layer);
        Map<String, String> allLive = new java.util.TreeMap<>();
        all.forEach(node -> allLive.put(node.toString(), "live"));
        assertEquals(allLive, view.states(), view.body());
        assertEquals(nodes.get(1).hostPort(), view.json().path("self").asText());
        assertTrue(view.nodes().get(nodes.get(1).hostPort()).path("self").asBoolean(), view.body());
        assertEquals("list", view.json().path("peersFrom").asText());
        assertEquals(owner.toString(), view.json().path("owner").asText(), "the owner that ran the one fill");
        // Only the owner stored it; every node now has it from the bucket.
        for (MirrorFixture node : nodes) {
            assertEquals(layer, Digest.sha256Of(node.get("/v2/library/herd/blobs/" + layer).body()));
        }
        assertEquals(1, upstreamGetsOf(layer));
        String key = "blobs/sha256/" + layer.hex().substring(0, 2) + "/" + layer.hex();
        assertTrue(s3.storedKeys("herd").contains(key), key + " in the bucket");
    }

    @Test
    void anImagePulledThroughNodeAIsServedByNodeCWithoutAnUpstreamBlobRequest() throws Exception {
        BuiltImage image = TestImages.singleArch(work.resolve("app-image"), "1.0", 3, 3_000_000, 43);
        skopeo.copy(image.source(), "docker://" + upstream.hostPort() + "/library/app:1.0");
        List<MirrorFixture> nodes = cluster(upstream.url(), "pulls");
        List<NodeAddress> all = nodes.stream().map(ClusterIT::address).toList();
        // A: a node that owns not every blob of the image, so that it asks another node for some.
        int a = askerOfOthers(image.blobs(), all, 1);
        MirrorFixture nodeA = nodes.get(a);
        MirrorFixture nodeC = nodes.get((a + 2) % nodes.size());
        upstream.reset();
        Path throughA = work.resolve("pulled-through-a");
        skopeo.copyToDir("docker://" + nodeA.hostPort() + "/app:1.0", throughA);
        assertPulledExactly(image, throughA);
        for (MirrorFixture node : nodes) {
            node.awaitFillsCommitted();
        }
        assertEquals(image.blobs().size(), upstream.blobGets().size(), "each blob once: " + upstream.blobGets());
        upstream.reset();
        Path throughC = work.resolve("pulled-through-c");
        skopeo.copyToDir("docker://" + nodeC.hostPort() + "/app:1.0", throughC);
        assertPulledExactly(image, throughC);
        assertEquals(List.of(), upstream.blobGets(), "node C asks the upstream for no blob");
    }

    private static void assertPulledExactly(BuiltImage image, Path dir) throws IOException {
        assertEquals(image.digest(), Digest.sha256Of(Files.readAllBytes(dir.resolve("manifest.json"))));
        for (Descriptor blob : image.blobs()) {
            assertEquals(blob.digest(), Digest.sha256Of(Files.readAllBytes(dir.resolve(blob.digest().hex()))));
        }
    }

    @Test
    void theNodeEndpointRefusesRequestsWithoutTheSecretAndAsksNoUpstream() throws Exception {
        BuiltImage image = TestImages.singleArch(work.resolve("secret-image"), "1.0", 1, 100_000, 97);
        skopeo.copy(image.source(), "docker://" + upstream.hostPort() + "/library/secret:1.0");
        List<MirrorFixture> nodes = cluster(upstream.url(), "secret");
        MirrorFixture node = nodes.get(1);
        Digest layer = image.manifest().layers().get(0).digest();
        String blobPath = "/_regmirror/cluster/docker.io/v2/library/secret/blobs/" + layer;
        String manifestPath = "/_regmirror/cluster/docker.io/v2/library/secret/manifests/1.0";
        upstream.reset();
        for (String[] headers : List.of(new String[0], new String[] {"Authorization", TestCredentials.basic("regmirror-node", "not-the-secret-at-all")},
                new String[] {"Authorization", "Bearer " + SECRET})) {
            for (String path : List.of("/_regmirror/cluster/health", blobPath, manifestPath)) {
                HttpResponse<byte[]> refused = node.get(path, headers);
                assertEquals(401, refused.statusCode(), path);
                assertTrue(new String(refused.body(), StandardCharsets.UTF_8).contains("\"code\":\"UNAUTHORIZED\""));
                assertTrue(refused.headers().firstValue("WWW-Authenticate").orElse("").startsWith("Basic "));
            }
        }
        assertEquals(List.of(), upstream.requests(), "a refused node request reaches no upstream");
        HttpResponse<byte[]> health = node.get("/_regmirror/cluster/health", "Authorization", TestCredentials.basic("regmirror-node", SECRET));
        assertEquals(200, health.statusCode());
        assertEquals("{\"node\":\"" + node.hostPort() + "\"}", new String(health.body(), StandardCharsets.UTF_8));
        HttpResponse<byte[]> blob = node.get(blobPath, "Authorization", TestCredentials.basic("regmirror-node", SECRET));
        assertEquals(200, blob.statusCode());
        assertEquals(layer, Digest.sha256Of(blob.body()));
        HttpResponse<byte[]> manifest = node.get(manifestPath, "Authorization", TestCredentials.basic("regmirror-node", SECRET));
        assertEquals(200, manifest.statusCode());
        assertEquals(image.digest(), Digest.sha256Of(manifest.body()));
        assertEquals(image.digest().toString(), manifest.headers().firstValue("Docker-Content-Digest").orElse(""));
        assertTrue(manifest.headers().firstValue("Regmirror-Resolved-At").isPresent(), "when the tag was resolved");
        assertEquals(404, node.get("/_regmirror/cluster/docker.io/v2/library/secret/manifests/2.0",
                "Authorization", TestCredentials.basic("regmirror-node", SECRET)).statusCode(), "the upstream's not found");
        assertEquals(404, node.get("/_regmirror/cluster/elsewhere.io/v2/library/secret/blobs/" + layer,
                "Authorization", TestCredentials.basic("regmirror-node", SECRET)).statusCode(), "only the node's own upstreams");
    }

    @Test
    void aNodeWhoseOwnerIsGoneFetchesTheBlobItself() throws Exception {
        BuiltImage image = TestImages.singleArch(work.resolve("gone-image"), "1.0", 8, 50_000, 131);
        skopeo.copy(image.source(), "docker://" + upstream.hostPort() + "/library/gone:1.0");
        List<MirrorFixture> nodes = cluster(upstream.url(), "gone");
        List<NodeAddress> all = nodes.stream().map(ClusterIT::address).toList();
        int asker = askerOfOthers(image.layers(), all, 1);
        MirrorFixture asking = nodes.get(asker);
        // A layer another node owns; that node stops before anyone noticed.
        Descriptor layer = image.layers().stream()
                .filter(blob -> !Rendezvous.owner(blob.digest(), all).equals(all.get(asker))).findFirst().orElseThrow();
        MirrorFixture owner = nodes.get(all.indexOf(Rendezvous.owner(layer.digest(), all)));
        cluster.stopNode(owner);
        upstream.reset();
        HttpResponse<byte[]> response = asking.get("/v2/library/gone/blobs/" + layer.digest());
        assertEquals(200, response.statusCode());
        assertEquals(layer.digest(), Digest.sha256Of(response.body()));
        assertEquals(1, upstreamGetsOf(layer.digest()));
        awaitLive(asking, 2);
        ClusterNodes.ClusterView view = clusterView(asking, "?digest=" + layer.digest());
        JsonNode stopped = view.nodes().get(owner.hostPort());
        assertEquals("down", stopped.path("state").asText(), view.body());
        assertTrue(stopped.path("failedChecks").asInt() >= 2, view.body());
        assertTrue(stopped.path("since").isTextual() && stopped.path("lastErrorAt").isTextual(), view.body());
        assertTrue(stopped.path("lastError").asText().startsWith("get a health check answer from node " + owner.hostPort()),
                view.body());
        assertFalse(view.body().contains(SECRET), view.body());
        assertEquals(2, view.states().values().stream().filter("live"::equals).count(), view.body());
        NodeAddress newOwner = Rendezvous.owner(layer.digest(), all.stream()
                .filter(node -> !node.equals(address(owner))).toList());
        assertEquals(newOwner.toString(), view.json().path("owner").asText(), "the owner among the live two");
        asking.awaitFillsCommitted();
        for (Descriptor blob : image.layers()) {
            assertEquals(blob.digest(), Digest.sha256Of(asking.get("/v2/library/gone/blobs/" + blob.digest()).body()));
            assertEquals(1, upstreamGetsOf(blob.digest()), "with two nodes live, still one GET: " + blob.digest());
        }
    }

    /**
     * A Range of a cold blob another node owns is answered 206 from the owner's stream, sliced as it
     * passes: a part in the middle, and a part with the last byte (which ends once the blob verified).
     */
    @Test
    void aRangeOfABlobAnotherNodeOwnsIsAPartOfTheOwnersStream() throws Exception {
        BuiltImage image = TestImages.singleArch(work.resolve("range-image"), "1.0", 8, 200_000, 137);
        skopeo.copy(image.source(), "docker://" + upstream.hostPort() + "/library/range:1.0");
        List<MirrorFixture> nodes = cluster(upstream.url(), "range");
        List<NodeAddress> all = nodes.stream().map(ClusterIT::address).toList();
        int asker = askerOfOthers(image.layers(), all, 2);
        MirrorFixture asking = nodes.get(asker);
        List<Descriptor> ownedElsewhere = image.layers().stream()
                .filter(blob -> !Rendezvous.owner(blob.digest(), all).equals(all.get(asker))).limit(2).toList();
        assertEquals(2, ownedElsewhere.size(), "two of eight layers are owned by the other nodes");
        upstream.reset();

        Descriptor middle = ownedElsewhere.get(0);
        HttpResponse<byte[]> inside = asking.get("/v2/library/range/blobs/" + middle.digest(), "Range", "bytes=1000-1999");
        Descriptor tail = ownedElsewhere.get(1);
        HttpResponse<byte[]> last = asking.get("/v2/library/range/blobs/" + tail.digest(), "Range", "bytes=-500");
        assertEquals(2.0, blobRequests(asking, "peer"), "both parts came from their owners");
        assertEquals(1, upstreamGetsOf(middle.digest()), "only the owner asked the upstream");
        assertEquals(1, upstreamGetsOf(tail.digest()), "only the owner asked the upstream");

        byte[] whole = upstreamBytes(middle);
        assertEquals(206, inside.statusCode());
        assertEquals("bytes 1000-1999/" + whole.length, inside.headers().firstValue("Content-Range").orElseThrow());
        assertArrayEquals(java.util.Arrays.copyOfRange(whole, 1000, 2000), inside.body());
        whole = upstreamBytes(tail);
        assertEquals(206, last.statusCode());
        assertEquals("bytes " + (whole.length - 500) + "-" + (whole.length - 1) + "/" + whole.length,
                last.headers().firstValue("Content-Range").orElseThrow());
        assertArrayEquals(java.util.Arrays.copyOfRange(whole, whole.length - 500, whole.length), last.body());
    }

    /**
     * A prefetch on one node puts every blob of the image into the bucket through the blobs' owners:
     * one upstream GET per blob for the cluster, and the other nodes then serve it with none.
     */
    @Test
    void aPrefetchOnOneNodeFillsTheBucketThroughTheOwners() throws Exception {
        BuiltImage image = TestImages.singleArch(work.resolve("prefetch-image"), "1.0", 6, 100_000, 139);
        skopeo.copy(image.source(), "docker://" + upstream.hostPort() + "/library/warm:1.0");
        List<MirrorFixture> nodes = cluster(upstream.url(), "prefetch");
        upstream.reset();
        MirrorFixture node = nodes.get(0);
        HttpResponse<byte[]> posted = node.http().send(java.net.http.HttpRequest.newBuilder(node.adminUri("/admin/prefetch"))
                .header("Content-Type", "application/json")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{\"image\":\"warm:1.0\"}")).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(202, posted.statusCode(), new String(posted.body()));
        String id = new com.fasterxml.jackson.databind.ObjectMapper().readTree(posted.body()).get("id").asText();
        com.fasterxml.jackson.databind.JsonNode job = null;
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            job = new com.fasterxml.jackson.databind.ObjectMapper().readTree(node.http().send(java.net.http.HttpRequest
                    .newBuilder(node.adminUri("/admin/jobs/" + id)).build(), HttpResponse.BodyHandlers.ofByteArray()).body());
            if (job.get("finished").isTextual()) {
                break;
            }
            Thread.sleep(100);
        }
        assertEquals("succeeded", job.get("state").asText(), job.toString());
        assertEquals(image.blobs().size(), job.get("blobsDone").asInt(), job.toString());
        for (Descriptor blob : image.blobs()) {
            assertEquals(1, upstreamGetsOf(blob.digest()), "one GET per blob for the cluster: " + blob.digest());
        }
        for (MirrorFixture other : nodes) {
            other.awaitFillsCommitted();
        }
        upstream.reset();
        skopeo.copyToDir("docker://" + nodes.get(2).hostPort() + "/warm:1.0", work.resolve("pulled-warm"));
        assertEquals(List.of(), upstream.blobGets(), "the prefetched image is in the bucket");
    }

    /** The blob's bytes from the upstream itself (asked after the test's requests were counted). */
    private static byte[] upstreamBytes(Descriptor blob) throws Exception {
        byte[] bytes = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                        upstream.url().resolve("/v2/library/range/blobs/" + blob.digest())).build(),
                HttpResponse.BodyHandlers.ofByteArray()).body();
        assertEquals(blob.digest(), Digest.sha256Of(bytes));
        return bytes;
    }

    @Test
    void aClientOfAnotherNodeStreamsBeforeTheFillEndsAndIsCutOffWhenTheOwnerDies() throws Exception {
        byte[] big = new byte[12 * 1024 * 1024];
        new java.util.Random(5).nextBytes(big);
        int firstPart = 2 * 1024 * 1024;
        try (PausingRegistry pausing = new PausingRegistry(big, firstPart)) {
            List<MirrorFixture> nodes = cluster(pausing.uri(), "dying");
            List<NodeAddress> all = nodes.stream().map(ClusterIT::address).toList();
            Digest layer = pausing.layerDigest();
            NodeAddress ownerAddress = Rendezvous.owner(layer, all);
            MirrorFixture owner = nodes.get(all.indexOf(ownerAddress));
            MirrorFixture asking = nodes.get((all.indexOf(ownerAddress) + 1) % 3);
            assertNotEquals(owner, asking);
            HttpResponse<InputStream> response = asking.http().send(asking.request("/v2/library/big/blobs/" + layer)
                    .GET().build(), HttpResponse.BodyHandlers.ofInputStream());
            assertEquals(200, response.statusCode());
            assertEquals(String.valueOf(big.length), response.headers().firstValue("Content-Length").orElse(""));
            try (InputStream body = response.body()) {
                byte[] first = body.readNBytes(firstPart / 2);
                assertEquals(firstPart / 2, first.length, "bytes arrive while the upstream still holds the rest");
                cluster.stopNode(owner);
                IOException cut = assertThrows(IOException.class, () -> {
                    long more = body.transferTo(java.io.OutputStream.nullOutputStream());
                    throw new AssertionError("the response ended normally after " + (first.length + more) + " bytes");
                });
                assertTrue(cut.getMessage() != null, cut.toString());
            } finally {
                pausing.release();
            }
            assertEquals(1, pausing.gets("/v2/library/big/blobs/" + layer), "only the owner asked the upstream");
        }
    }

    /**
     * A node's web console in a real headless Chromium (as ConsoleIT's): the overview's cluster card,
     * the Cluster page with the three nodes live, then a stopped node down with its last error; its
     * owner form answering the owner the blob path uses, before and after, and a bad digest's error.
     */
    @Test
    void theConsoleShowsTheNodesAStoppedOneDownAndWhoOwnsABlob() throws Exception {
        List<MirrorFixture> nodes = cluster(upstream.url(), "console");
        List<NodeAddress> all = nodes.stream().map(ClusterIT::address).toList();
        MirrorFixture watching = nodes.get(0);
        MirrorFixture stopped = nodes.get(2);
        Digest digest = Digest.sha256Of("which node owns me".getBytes(StandardCharsets.UTF_8));
        String base = "http://127.0.0.1:" + watching.adminPort();
        try (Browser browser = new Browser()) {
            browser.signInWithoutToken(base);
            browser.await().until(ExpectedConditions.textToBePresentInElementLocated(By.id("cards"), "3 of 3 nodes live"));
            browser.driver.findElement(By.id("nav-cluster")).click();
            browser.await().until(ExpectedConditions.numberOfElementsToBe(By.cssSelector("#cluster-table tbody tr"), 3));
            for (MirrorFixture node : nodes) {
                assertEquals("live", nodeCell(browser, node, ".state").getText());
            }
            assertTrue(nodeCell(browser, watching, "td").getText().endsWith("(this node)"));
            assertEquals("3 of 3 nodes", browser.driver.findElement(By.id("cluster-live")).getText());
            assertEquals("no TLS (plain HTTP)", browser.driver.findElement(By.id("cluster-tls")).getText());
            assertEquals("the list in regmirror.cluster.peers", browser.driver.findElement(By.id("cluster-peers")).getText());
            assertEquals(Rendezvous.owner(digest, all).toString(), askOwner(browser, digest.toString()));

            submitOwnerForm(browser, "sha256:abc");
            browser.await().until(ExpectedConditions.textToBe(By.id("owner-result"), "DIGEST_INVALID: invalid digest \"sha256:abc\""));
            browser.assertOnlyErrorsAbout("/admin/cluster?digest=sha256%3Aabc - Failed to load resource: the server responded"
                    + " with a status of 400");

            cluster.stopNode(stopped);
            awaitLive(watching, 2);
            // The form's answer shows the nodes too (the page's own refresh, every 5 s, would show them later).
            List<NodeAddress> live = all.stream().filter(node -> !node.equals(address(stopped))).toList();
            assertEquals(Rendezvous.owner(digest, live).toString(), askOwner(browser, digest.toString()));
            assertEquals("down", nodeCell(browser, stopped, ".state").getText());
            String row = browser.driver.findElement(By.cssSelector("tr[data-node='" + stopped.hostPort() + "']")).getText();
            assertTrue(row.contains("get a health check answer from node " + stopped.hostPort()), row);
            assertTrue(row.contains(" s ago"), "since when: " + row);
            assertEquals("2 of 3 nodes", browser.driver.findElement(By.id("cluster-live")).getText());
            assertEquals(clusterView(watching, "?digest=" + digest).json().path("owner").asText(),
                    browser.driver.findElement(By.id("owner")).getText(), "what the API answers");
            browser.screenshot("cluster");
            browser.phone(true);
            try {
                browser.driver.navigate().refresh();
                browser.await().until(ExpectedConditions.numberOfElementsToBe(By.cssSelector("#cluster-table tbody tr"), 3));
                assertEquals(Boolean.TRUE, browser.driver.executeScript(
                        "return document.documentElement.scrollWidth <= window.innerWidth"), "no page-wide sideways scrolling");
            } finally {
                browser.phone(false);
            }
            browser.assertOnlyErrorsAbout();
        }
    }

    private static WebElement nodeCell(Browser browser, MirrorFixture node, String css) {
        return browser.driver.findElement(By.cssSelector("tr[data-node='" + node.hostPort() + "'] " + css));
    }

    private static void submitOwnerForm(Browser browser, String digest) {
        WebElement field = browser.driver.findElement(By.id("owner-digest"));
        field.clear();
        field.sendKeys(digest);
        browser.driver.findElement(By.id("owner-find")).click();
    }

    /** Asks the Cluster page's form who owns {@code digest}; the owner it shows. */
    private static String askOwner(Browser browser, String digest) {
        submitOwnerForm(browser, digest);
        browser.await().until(ExpectedConditions.textToBePresentInElementLocated(By.id("owner-result"), digest + " is owned by"));
        return browser.driver.findElement(By.id("owner")).getText();
    }

    private static final String[] ACCEPT = {"Accept", String.join(", ", MediaTypes.OCI_MANIFEST, MediaTypes.OCI_INDEX,
            MediaTypes.DOCKER_MANIFEST, MediaTypes.DOCKER_MANIFEST_LIST)};

    /** The upstream's manifest requests (HEAD or GET) by the tag, not by digest. */
    private static long upstreamTagRequests(String name, String tag) {
        String path = "/v2/" + name + "/manifests/" + java.util.regex.Pattern.quote(tag);
        return upstream.count("HEAD", path) + upstream.count("GET", path);
    }

    /** Three clients on each node ask for the tag at once; each answer is 200 with the digest. */
    private static void askEveryNode(List<MirrorFixture> nodes, String path, Digest expected) {
        List<CompletableFuture<HttpResponse<byte[]>>> asked = new ArrayList<>();
        for (int i = 0; i < 3 * nodes.size(); i++) {
            MirrorFixture node = nodes.get(i % nodes.size());
            asked.add(node.http().sendAsync(node.request(path).header(ACCEPT[0], ACCEPT[1]).GET().build(),
                    HttpResponse.BodyHandlers.ofByteArray()));
        }
        for (CompletableFuture<HttpResponse<byte[]>> response : asked) {
            assertEquals(200, response.join().statusCode(), new String(response.join().body(), StandardCharsets.UTF_8));
            assertEquals(expected.toString(), response.join().headers().firstValue("Docker-Content-Digest").orElse(""));
            assertEquals(expected, Digest.sha256Of(response.join().body()));
        }
    }

    @Test
    void aTagAskedOnEveryNodeIsRevalidatedOncePerClusterPerTtlAndStillAnsweredWithItsOwnerGone() throws Exception {
        BuiltImage image = TestImages.singleArch(work.resolve("tagged-image"), "1.0", 1, 20_000, 151);
        skopeo.copy(image.source(), "docker://" + upstream.hostPort() + "/library/tagged:1.0");
        MutableClock clock = new MutableClock(Instant.now());
        List<MirrorFixture> nodes = cluster(upstream.url(), "tags", clock);
        List<NodeAddress> all = nodes.stream().map(ClusterIT::address).toList();
        NodeAddress ownerAddress = Rendezvous.owner("docker.io/library/tagged:1.0", all);
        String path = "/v2/library/tagged/manifests/1.0";
        upstream.reset();
        askEveryNode(nodes, path, image.digest());
        assertEquals(1, upstreamTagRequests("library/tagged", "1.0"), "one look-up of a cold tag: " + upstream.requests());
        assertEquals(1, upstream.count("GET", "/v2/library/tagged/manifests/sha256:.*"), "one fetch of its manifest");

        // After the TTL (5m): one revalidation for the whole cluster, by the tag's owner.
        for (int round = 0; round < 2; round++) {
            clock.advance(Duration.ofMinutes(6));
            upstream.reset();
            askEveryNode(nodes, path, image.digest());
            assertEquals(1, upstreamTagRequests("library/tagged", "1.0"), "round " + round + ": " + upstream.requests());
            assertEquals(0, upstream.count("GET", "/v2/library/tagged/manifests/sha256:.*"), "the manifest is cached");
        }
        for (MirrorFixture node : nodes) {
            assertEquals(address(node).equals(ownerAddress), manifestRequests(node, "peer") == 0,
                    node.hostPort() + ": only the others ask the owner");
        }

        // The owner gone: the others still answer, asking the upstream themselves until they notice,
        // then the tag's next owner among them revalidates it once.
        MirrorFixture owner = nodes.get(all.indexOf(ownerAddress));
        cluster.stopNode(owner);
        List<MirrorFixture> left = nodes.stream().filter(node -> node != owner).toList();
        clock.advance(Duration.ofMinutes(6));
        upstream.reset();
        askEveryNode(left, path, image.digest());
        long asked = upstreamTagRequests("library/tagged", "1.0");
        assertTrue(asked >= 1 && asked <= 2, "each node at most once: " + upstream.requests());
        for (MirrorFixture node : left) {
            awaitLive(node, 2);
        }
        clock.advance(Duration.ofMinutes(6));
        upstream.reset();
        askEveryNode(left, path, image.digest());
        assertEquals(1, upstreamTagRequests("library/tagged", "1.0"), "the next owner's: " + upstream.requests());
    }
}
