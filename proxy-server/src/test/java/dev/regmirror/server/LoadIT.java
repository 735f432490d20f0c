package dev.regmirror.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.regmirror.core.manifest.Descriptor;
import dev.regmirror.core.manifest.MediaTypes;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.testing.BuiltImage;
import dev.regmirror.core.testing.RegistryProcess;
import dev.regmirror.core.testing.Skopeo;
import dev.regmirror.core.testing.TestImages;
import io.netty.util.ResourceLeakDetector;
import java.io.IOException;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Many connections at once against a real regmirror whose upstream is a real registry: active
 * keep-alive connections mixing cached manifests (by tag and by digest), cached blobs and misses
 * (blobs not yet cached, fetched from the upstream while others may join), beside idle kept-alive
 * connections held open throughout. Every answer must be a 200 whose body has the expected digest;
 * every active connection must get answers while the idle ones are held; every idle one must still
 * be served afterwards; heap after GC, RSS and file descriptors must come back within bounds.
 * Latencies are printed, never asserted: the machine is shared.
 *
 * <p>The default run is short; {@code bench/load.sh} runs the same test for a minute with the
 * figures of issue 12 (system properties {@code regmirror.load.seconds}, {@code .connections},
 * {@code .idle}, {@code .misses}).
 */
class LoadIT {

    private static final int ACTIVE = Integer.getInteger("regmirror.load.connections", 1000);
    private static final int IDLE = Integer.getInteger("regmirror.load.idle", 2000);
    private static final int SECONDS = Integer.getInteger("regmirror.load.seconds", 10);
    private static final int MISSES = Integer.getInteger("regmirror.load.misses", 120);
    private static final int MISS_SIZE = 16 * 1024;
    private static final long MIB = 1024 * 1024;

    @TempDir
    static Path work;

    private static RegistryProcess upstream;
    private static MirrorFixture mirror;
    private static BuiltImage image;
    private static final List<Digest> missBlobs = new ArrayList<>();
    private static ResourceLeakDetector.Level leakLevel;

    @BeforeAll
    static void start() throws Exception {
        // Paranoid leak tracking records a stack for every buffer: at this volume it is the load.
        // Sampled tracking still reports leaks.
        leakLevel = ResourceLeakDetector.getLevel();
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.SIMPLE);
        upstream = RegistryProcess.start();
        image = TestImages.singleArch(work.resolve("image"), "1.0", 4, 200_000, 41);
        try (Skopeo skopeo = new Skopeo()) {
            skopeo.copy(image.source(), "docker://" + upstream.hostPort() + "/library/app:1.0");
        }
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        Random random = new Random(42);
        for (int i = 0; i < MISSES; i++) {
            byte[] bytes = new byte[MISS_SIZE];
            random.nextBytes(bytes);
            missBlobs.add(upload(http, upstream.url(), "library/miss", bytes));
        }
        mirror = MirrorFixture.start(upstream.url(), work.resolve("cache"), Map.of(
                "regmirror.server.limits.connections-per-client", 0,
                "regmirror.upstream-defaults.read-timeout", "30s"));
        // Cached: the manifest by tag and digest, and the layers.
        assertEquals(200, mirror.get("/v2/app/manifests/1.0", "Accept", MediaTypes.OCI_MANIFEST).statusCode());
        for (Descriptor layer : image.manifest().layers()) {
            assertEquals(200, mirror.get("/v2/app/blobs/" + layer.digest()).statusCode());
        }
    }

    @AfterAll
    static void stop() {
        if (mirror != null) {
            mirror.close();
        }
        if (upstream != null) {
            upstream.close();
        }
        if (leakLevel != null) {
            ResourceLeakDetector.setLevel(leakLevel);
        }
    }

    @Test
    void manyConnectionsMixingHitsAndMissesAllSucceedWhileIdleOnesAreHeld() throws Exception {
        Digest manifest = image.digest();
        List<Descriptor> layers = image.manifest().layers();
        AtomicInteger nextMiss = new AtomicInteger();
        LoadClient.Request byTag = new LoadClient.Request("manifest", "/v2/app/manifests/1.0", MediaTypes.OCI_MANIFEST,
                manifest);
        LoadClient.Request byDigest = new LoadClient.Request("manifest", "/v2/app/manifests/" + manifest,
                MediaTypes.OCI_MANIFEST, manifest);
        java.util.function.Function<Random, LoadClient.Request> mix = random -> {
            int roll = random.nextInt(100);
            if (roll < 35) {
                return byTag;
            }
            if (roll < 70) {
                return byDigest;
            }
            if (roll < 95) {
                Digest layer = layers.get(random.nextInt(layers.size())).digest();
                return new LoadClient.Request("blob", "/v2/app/blobs/" + layer, null, layer);
            }
            // Each miss blob is asked for by a few connections in turn: the first ones miss (or
            // join the download), later ones hit.
            Digest miss = missBlobs.get((nextMiss.getAndIncrement() / 3) % missBlobs.size());
            return new LoadClient.Request("miss", "/v2/miss/blobs/" + miss, null, miss);
        };

        long setupStarted = System.nanoTime();
        long fdsBefore = openFiles();
        long heapBefore = heapAfterGc();
        try (LoadClient client = new LoadClient("127.0.0.1", mirror.port())) {
            client.openIdle(IDLE);
            assertEquals(IDLE, client.probeIdle(byDigest, 120), "every idle connection is served once: "
                    + client.firstErrors());
            client.openActive(ACTIVE, 7, mix);
            System.out.printf("LoadIT: %d idle connections opened and served once, %d active opened in %.1f s%n",
                    IDLE, ACTIVE, (System.nanoTime() - setupStarted) / 1e9);
            long startedAt = System.nanoTime();
            CountDownLatch finished = client.start(startedAt + TimeUnit.SECONDS.toNanos(SECONDS));
            boolean allEnded = finished.await(SECONDS + 120L, TimeUnit.SECONDS);
            double elapsed = (System.nanoTime() - startedAt) / 1e9;
            long rssLoaded = rssBytes();
            long heapLoaded = heapAfterGc();
            long idleServedAfter = client.probeIdle(byTag, 120);

            long manifests = client.completed("manifest");
            long blobs = client.completed("blob");
            long misses = client.completed("miss");
            long[] manifestNanos = client.latencies("manifest");
            long[] blobNanos = client.latencies("blob");
            long[] missNanos = client.latencies("miss");
            System.out.printf("LoadIT: %d active + %d idle connections, %.1f s: %d requests (%.0f/s), %d errors%n",
                    ACTIVE, IDLE, elapsed, manifests + blobs + misses, (manifests + blobs + misses) / elapsed,
                    client.errors());
            System.out.printf("LoadIT: cached manifests %d, p50 %.1f ms, p99 %.1f ms, max %.1f ms%n", manifests,
                    percentile(manifestNanos, 50), percentile(manifestNanos, 99), percentile(manifestNanos, 100));
            System.out.printf("LoadIT: cached blobs (200 KB) %d, p50 %.1f ms, p99 %.1f ms; misses %d (%d distinct),"
                    + " p50 %.1f ms, p99 %.1f ms%n", blobs, percentile(blobNanos, 50), percentile(blobNanos, 99),
                    misses, Math.min(missBlobs.size(), nextMiss.get() / 3 + 1), percentile(missNanos, 50),
                    percentile(missNanos, 99));
            System.out.printf("LoadIT: heap after GC %d MiB before, %d MiB under load; RSS %d MiB; direct %d MiB;"
                    + " open files %d before%n", heapBefore / MIB, heapLoaded / MIB, rssLoaded / MIB,
                    directBytes() / MIB, fdsBefore);

            assertTrue(allEnded, "every active connection finished its run");
            assertEquals(List.of(), client.firstErrors(), client.errors() + " errors");
            assertEquals(0, client.errors());
            assertEquals(ACTIVE, client.activeThatCompleted(), "every active connection was answered beside "
                    + IDLE + " idle ones");
            assertTrue(misses > 0 && manifests > 0 && blobs > 0, "the mix ran");
            assertEquals(0, client.idleClosed(), "no idle connection was dropped");
            assertEquals(IDLE, idleServedAfter, "every idle connection is still served after the load");
            // The server keeps no state per request: what the heap holds after GC is the open
            // connections' (some KiB each, client and server side both in this JVM) and the caches',
            // not a function of how many requests were served.
            long heapBound = heapBefore + (ACTIVE + IDLE) * 64L * 1024 + 64 * MIB;
            assertTrue(heapLoaded < heapBound, "heap after GC " + heapLoaded / MIB + " MiB, bound " + heapBound / MIB);
            // RSS: the heap the JVM grew to (no -Xmx in tests: a quarter of the machine) plus Netty's
            // pooled direct arenas and thread stacks; 2 GiB is far above a healthy run and far below
            // what a leak of a buffer per request would reach.
            assertTrue(rssLoaded < 2048 * MIB, "RSS " + rssLoaded / MIB + " MiB");
        }
        long fdsAfter = awaitFilesBelow(fdsBefore + 50);
        assertTrue(fdsAfter <= fdsBefore + 50, "connections closed, descriptors released: " + fdsBefore + " before, "
                + fdsAfter + " after");
    }

    private static Digest upload(HttpClient http, URI registry, String repository, byte[] bytes)
            throws IOException, InterruptedException {
        Digest digest = Digest.sha256Of(bytes);
        HttpResponse<Void> started = http.send(HttpRequest.newBuilder(registry.resolve("/v2/" + repository
                + "/blobs/uploads/")).POST(HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.discarding());
        assertEquals(202, started.statusCode());
        URI location = registry.resolve(started.headers().firstValue("Location").orElseThrow());
        String separator = location.getQuery() == null ? "?" : "&";
        HttpResponse<Void> put = http.send(HttpRequest.newBuilder(URI.create(location + separator + "digest=" + digest))
                .header("Content-Type", "application/octet-stream").PUT(HttpRequest.BodyPublishers.ofByteArray(bytes))
                .build(), HttpResponse.BodyHandlers.discarding());
        assertEquals(201, put.statusCode());
        return digest;
    }

    private static double percentile(long[] sortedNanos, int percent) {
        if (sortedNanos.length == 0) {
            return Double.NaN;
        }
        int index = (int) Math.min(sortedNanos.length - 1, Math.ceil(sortedNanos.length * percent / 100.0) - 1);
        return sortedNanos[Math.max(0, index)] / 1e6;
    }

    private static long heapAfterGc() {
        System.gc();
        System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    private static long directBytes() {
        return ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
                .filter(pool -> pool.getName().equals("direct")).mapToLong(BufferPoolMXBean::getMemoryUsed).sum();
    }

    private static long rssBytes() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        return -1;
    }

    private static long openFiles() throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        }
    }

    /** Closed connections leave the server's side a moment later; waits at most 30 s for them. */
    private static long awaitFilesBelow(long bound) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        long open = openFiles();
        while (open > bound && System.nanoTime() < deadline) {
            Thread.sleep(100);
            open = openFiles();
        }
        return open;
    }
}
