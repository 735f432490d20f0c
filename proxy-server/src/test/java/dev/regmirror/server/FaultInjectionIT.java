package dev.regmirror.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.regmirror.core.testing.BuiltImage;
import dev.regmirror.core.testing.CacheCheck;
import dev.regmirror.core.testing.FaultProxy;
import dev.regmirror.core.testing.ImageFormat;
import dev.regmirror.core.testing.LoggedRequest;
import dev.regmirror.core.testing.PullClient;
import dev.regmirror.core.testing.RegistryProcess;
import dev.regmirror.core.testing.Skopeo;
import dev.regmirror.core.testing.TestImages;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import io.netty.util.internal.PlatformDependent;
import java.io.File;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Concurrent clients pull images through regmirror while a {@link FaultProxy} spoils its connections
 * to a real registry (resets, stalls, trickles, half-closes, cut and flipped bodies, 5xx and 429
 * answers) and the cache is purged under their feet. Afterwards: no client ever got a complete 200
 * body with the wrong digest, or a 404 for what the upstream has; every cached blob hashes to its
 * name; file descriptors, threads and direct memory are back where they were; and with the faults
 * gone a clean pull of every image succeeds, fetching nothing the run had committed.
 *
 * <p>The run lasts {@code -Dregmirror.faults.seconds} (default 15) with
 * {@code -Dregmirror.faults.clients} clients (default 12); {@code -Dregmirror.faults.seed} replays
 * the fault schedule of a failed run, whose seed every failure message carries.
 * {@code bench/faults.sh} runs longer campaigns.
 */
class FaultInjectionIT {

    private static final long SECONDS = Long.getLong("regmirror.faults.seconds", 15);
    private static final int CLIENTS = Integer.getInteger("regmirror.faults.clients", 12);
    private static final double FAULT_RATE = Double.parseDouble(System.getProperty("regmirror.faults.rate", "0.3"));
    private static final int MAX_STALL_MILLIS = 2_500;
    private static final long PURGE_EVERY_MILLIS = 4_000;

    @TempDir
    Path work;

    @Test
    void pullsUnderRandomUpstreamFaultsNeverGetWrongBytesAndLeaveASoundCache() throws Exception {
        long seed = FaultProxy.seedFrom("regmirror.faults.seed");
        System.out.println("FaultInjectionIT seed " + seed + " (replay with -Dregmirror.faults.seed=" + seed + ")");
        Path cache = work.resolve("cache");
        ListAppender<ILoggingEvent> leaks = watchLeaks();
        try (RegistryProcess upstream = RegistryProcess.start(); Skopeo skopeo = new Skopeo();
             FaultProxy faults = FaultProxy.start(upstream.url(), seed, FAULT_RATE, MAX_STALL_MILLIS)) {
            Map<String, BuiltImage> images = pushImages(upstream, skopeo);
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                    .connectTimeout(Duration.ofSeconds(5)).build();
            PullClient clients = new PullClient(http, Duration.ofSeconds(30));
            startMirror(faults.uri(), work.resolve("warm-up")).close(); // loads what stays loaded: classes, BlockHound
            Baseline before = Baseline.take().awaitReturn(Duration.ofSeconds(5), faults);

            long directBefore = directMemory();
            AtomicInteger purges = new AtomicInteger();
            // No reference to the server outlives its close: its JDK HTTP clients let go of their pooled
            // upstream connections and selector threads only once collected.
            int[] ports = new int[1];
            runLoad(faults.uri(), cache, clients, images, new Random(seed), purges, ports);
            String run = faults.summary() + "; " + clients.summary() + ", purges=" + purges;
            System.out.println("FaultInjectionIT: " + run);

            assertEquals(List.of(), clients.wrongBodies(), "complete 200 bodies with the wrong bytes; " + run);
            assertEquals(0L, clients.statuses().getOrDefault(404, 0L),
                    "an upstream fault was reported as not found; " + run);
            assertTrue(clients.pulls() >= 100, "hundreds of pulls: " + run);
            assertTrue(clients.goodBodies() > clients.pulls(), "most bodies arrived whole: " + run);
            for (FaultProxy.Fault fault : FaultProxy.Fault.values()) {
                if (fault != FaultProxy.Fault.NONE) {
                    assertTrue(faults.applied().get(fault) > 0, fault + " was injected at least once: " + run);
                }
            }
            assertEquals(List.of(), CacheCheck.corruptBlobs(cache), "every cached blob hashes to its name; " + run);

            Baseline after = before.awaitReturn(Duration.ofSeconds(20), faults);
            System.out.println("FaultInjectionIT: descriptors " + before.fds() + " before the load, " + after.fds()
                    + " after");
            assertTrue(after.fds() <= before.fds() + 16 && after.threads().size() <= before.threads().size() + 2,
                    "file descriptors and threads before the load " + before + ", after " + after + "\n"
                            + after.fdList(faults) + "\nmirror port " + ports[0] + ", fault proxy " + faults.uri().getPort()
                            + ", registry " + upstream.port() + "\n" + run);
            long directAfter = directMemory();
            assertTrue(directAfter <= Math.max(directBefore, 0) + 64L * 1024 * 1024,
                    "direct memory " + directBefore + " before the load, " + directAfter + " after; " + run);
            System.gc();
            cleanPullsFetchNothingCommitted(upstream, skopeo, faults, cache, images, run);
            assertEquals(List.of(), leaks.list.stream().map(ILoggingEvent::getFormattedMessage).toList(),
                    "Netty's leak detector (paranoid in the ITs) found buffers never released; " + run);
        } finally {
            ((Logger) LoggerFactory.getLogger(ResourceLeakDetector.class)).detachAppender(leaks);
        }
    }

    /**
     * With the faults off and regmirror restarted on the same cache, skopeo pulls every image with
     * the right digests, and the upstream serves none of the blobs the faulty run had committed;
     * a second round is served from the cache alone.
     */
    private void cleanPullsFetchNothingCommitted(RegistryProcess upstream, Skopeo skopeo, FaultProxy faults,
                                                 Path cache, Map<String, BuiltImage> images, String run)
            throws Exception {
        Set<String> committed = CacheCheck.blobs(cache);
        faults.faultRate(0);
        upstream.reset();
        try (MirrorFixture mirror = startMirror(faults.uri(), cache)) {
            for (int round = 1; round <= 2; round++) {
                PullClient clean = new PullClient(mirror.http(), Duration.ofSeconds(30));
                for (Map.Entry<String, BuiltImage> image : images.entrySet()) {
                    String ref = "docker://" + mirror.hostPort() + "/" + image.getKey() + ":" + image.getValue().tag();
                    if (round == 1) { // a real client, which checks every digest itself
                        skopeo.copyToDir(ref, Files.createDirectories(work.resolve("pulled"))
                                .resolve(image.getKey().replace('/', '-')), "--all");
                        assertEquals(image.getValue().digest(), skopeo.inspectDigest(ref), ref);
                    } else {
                        Random random = new Random(round);
                        for (int platform = 0; platform < image.getValue().manifests().size(); platform++) {
                            assertTrue(clean.pull(mirror.uri("/"), image.getKey(), image.getValue(), random),
                                    ref + ": " + clean.summary());
                        }
                    }
                }
                List<String> refetched = upstream.blobGets().stream().map(LoggedRequest::path)
                        .map(path -> path.substring(path.lastIndexOf(':') + 1))
                        .filter(round == 1 ? committed::contains : hex -> true).toList();
                assertEquals(List.of(), refetched, "round " + round + ": blobs fetched again although cached ("
                        + committed.size() + " committed by the faulty run); " + run);
                upstream.reset();
            }
        }
        assertEquals(List.of(), CacheCheck.corruptBlobs(cache), run);
    }

    private static MirrorFixture startMirror(URI upstream, Path cache) throws Exception {
        return MirrorFixture.start(upstream, cache, Map.of(
                "regmirror.upstream-defaults.connect-timeout", "1s",
                "regmirror.upstream-defaults.read-timeout", "2s",
                "regmirror.upstream-defaults.tag-ttl", "1s"));
    }

    /** Six images: OCI and Docker, single and multi-platform, layers of 50 KB to 1 MB, one shared base. */
    private Map<String, BuiltImage> pushImages(RegistryProcess upstream, Skopeo skopeo) {
        Map<String, BuiltImage> images = new LinkedHashMap<>();
        images.put("library/small", TestImages.singleArch(work.resolve("oci"), "1", 2, 50_000, 1));
        images.put("library/medium", TestImages.singleArch(work.resolve("oci"), "2", 3, 300_000, 2));
        images.put("team/large", TestImages.singleArch(work.resolve("oci"), "3", 2, 1_000_000, 3));
        images.put("team/docker", TestImages.singleArch(work.resolve("docker"), "4", 3, 200_000, 4, ImageFormat.DOCKER_V2S2));
        images.put("team/multi", TestImages.multiArch(work.resolve("oci"), "5", List.of("linux/amd64", "linux/arm64/v8"),
                3, 150_000, 5));
        images.put("library/shared", TestImages.singleArch(work.resolve("oci"), "6", 2, 50_000, 1));
        images.forEach((name, image) -> skopeo.copy(image.source(), "docker://" + upstream.hostPort() + "/" + name
                + ":" + image.tag(), "--all"));
        return images;
    }

    /** {@link #CLIENTS} clients pulling random images for {@link #SECONDS}, and a purge of everything now and then. */
    private static void runLoad(URI upstream, Path cache, PullClient clients, Map<String, BuiltImage> images,
                                Random seeds, AtomicInteger purges, int[] port) throws Exception {
        try (MirrorFixture mirror = startMirror(upstream, cache)) {
            port[0] = mirror.port();
            runLoad(mirror, clients, images, seeds, purges);
        }
    }

    private static void runLoad(MirrorFixture mirror, PullClient clients, Map<String, BuiltImage> images, Random seeds,
                                AtomicInteger purges) throws Exception {
        List<String> names = new ArrayList<>(images.keySet());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(SECONDS);
        ExecutorService pool = Executors.newFixedThreadPool(CLIENTS + 1);
        List<Future<?>> running = new ArrayList<>();
        try {
            for (int c = 0; c < CLIENTS; c++) {
                Random random = new Random(seeds.nextLong());
                running.add(pool.submit(() -> {
                    while (System.nanoTime() < deadline) {
                        String name = names.get(random.nextInt(names.size()));
                        clients.pull(mirror.uri("/"), name, images.get(name), random);
                    }
                    return null;
                }));
            }
            running.add(pool.submit(() -> {
                while (System.nanoTime() < deadline) {
                    Thread.sleep(PURGE_EVERY_MILLIS);
                    HttpResponse<byte[]> purged = mirror.http().send(HttpRequest.newBuilder(
                            mirror.adminUri("/admin/cache?all=true")).DELETE().build(),
                            HttpResponse.BodyHandlers.ofByteArray());
                    assertEquals(200, purged.statusCode(), new String(purged.body()));
                    purges.incrementAndGet();
                }
                return null;
            }));
            for (Future<?> future : running) {
                future.get(SECONDS + 120, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
            pool.awaitTermination(30, TimeUnit.SECONDS);
        }
    }

    private static ListAppender<ILoggingEvent> watchLeaks() {
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        ((Logger) LoggerFactory.getLogger(ResourceLeakDetector.class)).addAppender(appender);
        return appender;
    }

    /** Netty's count of direct memory, or the pooled allocator's if Netty does not count. */
    private static long directMemory() {
        long used = PlatformDependent.usedDirectMemory();
        return used >= 0 ? used : PooledByteBufAllocator.DEFAULT.metric().usedDirectMemory();
    }

    /**
     * Open file descriptors and live threads of this JVM, less the fault proxy's (its idle threads
     * and the sockets of connections it still holds) and the JDK HTTP clients' threads: a client's
     * selector thread lives until the client is collected, which a stopped server does not force;
     * its descriptors are counted, within the slack.
     */
    private record Baseline(int fds, List<String> threads) {

        static Baseline take() {
            return take(null);
        }

        static Baseline take(FaultProxy faults) {
            String[] fds = new File("/proc/self/fd").list();
            List<String> threads = Thread.getAllStackTraces().keySet().stream().map(Thread::getName)
                    .filter(name -> !name.startsWith("fault-proxy") && !name.startsWith("HttpClient-")).sorted().toList();
            return new Baseline(fds == null ? -1 : fds.length - (faults == null ? 0 : faults.openSockets()), threads);
        }

        /**
         * Collects garbage (the JDK HTTP client of a stopped server lets go of its connections and
         * selector thread only when collected) until the counts are back to this baseline plus a
         * little, or {@code within} passed; returns the last count.
         */
        Baseline awaitReturn(Duration within, FaultProxy faults) throws InterruptedException {
            long deadline = System.nanoTime() + within.toNanos();
            Baseline now;
            do {
                System.gc();
                Thread.sleep(200);
                now = take(faults);
            } while ((now.fds > fds + 2 || now.threads.size() > threads.size()) && System.nanoTime() < deadline);
            return now;
        }

        /** Every descriptor and what it is; a TCP socket with its addresses and state from /proc/net/tcp. */
        String fdList(FaultProxy faults) {
            Map<String, String> tcp = tcpSockets();
            StringBuilder list = new StringBuilder();
            File[] fds = new File("/proc/self/fd").listFiles();
            if (fds != null) {
                for (File fd : fds) {
                    try {
                        String target = Files.readSymbolicLink(fd.toPath()).toString();
                        String inode = target.startsWith("socket:[") ? target.substring(8, target.length() - 1) : "";
                        String socket = tcp.getOrDefault(inode, "");
                        list.append(fd.getName()).append(" -> ").append(target).append(' ').append(socket);
                        if (socket.contains(" -> " + faults.uri().getPort() + " ")) {
                            list.append(" faults ").append(faults.faultsOfClientPort(
                                    Integer.parseInt(socket.substring(0, socket.indexOf(' ')))));
                        }
                        list.append('\n');
                    } catch (java.io.IOException e) {
                        list.append(fd.getName()).append(" -> ?\n");
                    }
                }
            }
            return list.toString();
        }

        /** inode to "local-port -> remote-port state" of every IPv4 and IPv6 TCP socket. */
        private static Map<String, String> tcpSockets() {
            Map<String, String> sockets = new java.util.HashMap<>();
            for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
                try {
                    for (String line : Files.readAllLines(Path.of(table)).subList(1, Files.readAllLines(Path.of(table)).size())) {
                        String[] f = line.trim().split("\\s+");
                        String local = f[1].substring(f[1].indexOf(':') + 1);
                        String remote = f[2].substring(f[2].indexOf(':') + 1);
                        sockets.put(f[9], Integer.parseInt(local, 16) + " -> " + Integer.parseInt(remote, 16)
                                + " state " + f[3]);
                    }
                } catch (java.io.IOException | RuntimeException e) {
                    // no such table
                }
            }
            return sockets;
        }

    }
}
