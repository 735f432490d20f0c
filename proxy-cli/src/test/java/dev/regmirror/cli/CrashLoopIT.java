package dev.regmirror.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.regmirror.core.testing.BuiltImage;
import dev.regmirror.core.testing.CacheCheck;
import dev.regmirror.core.testing.PullClient;
import dev.regmirror.core.testing.RegistryProcess;
import dev.regmirror.core.testing.Skopeo;
import dev.regmirror.core.testing.TestImages;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The built jar killed with SIGKILL ({@code kill -9}) at random moments while clients pull, prefetch
 * jobs fill and purges delete, then started again on the same cache, over and over. After every kill
 * every blob file hashes to its name; after every restart {@code ingest/} is empty (the start's
 * sweep); no client ever got a complete 200 body with the wrong digest, before or after a crash;
 * at the end a fresh start serves every image whole.
 *
 * <p>{@code -Dregmirror.crash.kills} (default 10) kills, {@code -Dregmirror.crash.seed} replays the
 * schedule of a failed run (its seed is in every failure message); {@code bench/faults.sh} runs the
 * 50-kill campaign.
 */
class CrashLoopIT {

    private static final int KILLS = Integer.getInteger("regmirror.crash.kills", 10);
    private static final int CLIENTS = 6;

    @TempDir
    Path work;

    @Test
    void killedAtRandomMomentsTheCacheStaysSoundAndEveryImageIsServedWhole() throws Exception {
        long seed = Long.getLong("regmirror.crash.seed", new Random().nextLong());
        System.out.println("CrashLoopIT seed " + seed + " (replay with -Dregmirror.crash.seed=" + seed + ")");
        Random schedule = new Random(seed);
        Path cache = work.resolve("cache");
        try (RegistryProcess upstream = RegistryProcess.start(); Skopeo skopeo = new Skopeo()) {
            Map<String, BuiltImage> images = pushImages(upstream, skopeo);
            int port = RegmirrorProcess.freePort();
            int adminPort = RegmirrorProcess.freePort();
            Path config = RegmirrorProcess.config(work, "crash", port, adminPort, cache.toString(),
                    upstream.url().toString(), "regmirror.upstream-defaults.tag-ttl = 0s");
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                    .connectTimeout(Duration.ofSeconds(2)).build();
            PullClient clients = new PullClient(http, Duration.ofSeconds(20));
            AtomicLong prefetches = new AtomicLong();
            AtomicLong purges = new AtomicLong();
            List<String> restarts = new ArrayList<>();
            AtomicLong leftovers = new AtomicLong();
            int killsLeavingIngest = 0;
            for (int kill = 1; kill <= KILLS; kill++) {
                String at = "kill " + kill + " of " + KILLS + ", seed " + seed;
                long starting = System.nanoTime();
                RegmirrorProcess mirror = serve(config, port);
                long started = (System.nanoTime() - starting) / 1_000_000;
                assertEquals(List.of(), CacheCheck.ingestLeftovers(cache), "the start swept ingest/ (" + at + ")");
                AtomicBoolean running = new AtomicBoolean(true);
                ExecutorService load = Executors.newFixedThreadPool(CLIENTS + 1);
                for (int c = 0; c < CLIENTS; c++) {
                    Random random = new Random(schedule.nextLong());
                    load.execute(() -> pullUntilStopped(clients, mirror.uri("/"), images, random, running));
                }
                Random adminRandom = new Random(schedule.nextLong());
                load.execute(() -> administerUntilStopped(http, adminPort, images, adminRandom, running, prefetches,
                        purges));
                long lifetime = 300 + schedule.nextInt(2_200);
                Thread.sleep(lifetime);
                mirror.kill();
                running.set(false);
                load.shutdown();
                assertTrue(load.awaitTermination(60, TimeUnit.SECONDS), "the load stopped after " + at);
                restarts.add(started + "+" + lifetime + " ms");
                assertEquals(List.of(), clients.wrongBodies(), "no wrong bytes served (" + at + ")");
                assertEquals(List.of(), CacheCheck.corruptBlobs(cache), "every blob sound after " + at);
                int left = CacheCheck.ingestLeftovers(cache).size();
                leftovers.addAndGet(left);
                killsLeavingIngest += left > 0 ? 1 : 0;
            }
            String run = "seed " + seed + ", " + KILLS + " kills (start+serving before each) " + restarts + "; "
                    + clients.summary()
                    + ", prefetches=" + prefetches + ", purges=" + purges + "; " + killsLeavingIngest
                    + " kills left " + leftovers + " files in ingest/, each swept by the next start";
            System.out.println("CrashLoopIT: " + run);
            List<String> typesWithoutBytes = CacheCheck.typesWithoutBytes(cache);
            System.out.println("CrashLoopIT: manifest types without their bytes (a cache miss): " + typesWithoutBytes);

            PullClient clean = new PullClient(http, Duration.ofSeconds(30));
            try (RegmirrorProcess mirror = serve(config, port)) {
                assertEquals(List.of(), CacheCheck.ingestLeftovers(cache), run);
                Random random = new Random(seed);
                for (Map.Entry<String, BuiltImage> image : images.entrySet()) {
                    for (int platform = 0; platform < image.getValue().manifests().size(); platform++) {
                        assertTrue(clean.pull(mirror.uri("/"), image.getKey(), image.getValue(), random),
                                image.getKey() + " pulled whole after the crashes: " + clean.summary() + "; " + run);
                    }
                }
                assertEquals(image(images).digest(), skopeo.inspectDigest("docker://127.0.0.1:" + port + "/"
                        + images.keySet().iterator().next() + ":" + image(images).tag()), run);
                // What an operator runs after a crash: the mirror re-hashes its cache from inside.
                RegmirrorProcess.Finished verify = RegmirrorProcess.run(work, List.of(), "verify", "--wait",
                        "--server", "http://127.0.0.1:" + adminPort);
                System.out.println("CrashLoopIT: regmirror verify after the crashes:\n" + verify.output());
                assertEquals(0, verify.exitCode(), verify.output() + "\n" + run);
                assertTrue(verify.output().contains("corrupt blobs: none\n"), verify.output());
            }
            assertEquals(List.of(), clean.wrongBodies(), run);
            assertTrue(clients.goodBodies() > 0, "the load got bodies through between the kills: " + run);
            assertEquals(List.of(), CacheCheck.corruptBlobs(cache), run);
            assertTrue(CacheCheck.blobs(cache).size() > 0, run);
        }
    }

    private static BuiltImage image(Map<String, BuiltImage> images) {
        return images.values().iterator().next();
    }

    private RegmirrorProcess serve(Path config, int port) throws Exception {
        return RegmirrorProcess.serveAfterKill(work, config, port);
    }

    /** Five images: layers of 100 KB to 4 MB, so a kill often lands in the middle of a download. */
    private Map<String, BuiltImage> pushImages(RegistryProcess upstream, Skopeo skopeo) {
        Map<String, BuiltImage> images = new LinkedHashMap<>();
        images.put("library/one", TestImages.singleArch(work.resolve("oci"), "1", 3, 400_000, 11));
        images.put("library/two", TestImages.singleArch(work.resolve("oci"), "2", 2, 4_000_000, 12));
        images.put("team/three", TestImages.singleArch(work.resolve("oci"), "3", 4, 100_000, 13));
        images.put("team/multi", TestImages.multiArch(work.resolve("oci"), "4", List.of("linux/amd64", "linux/arm64/v8"),
                2, 1_000_000, 14));
        images.put("team/big", TestImages.singleArch(work.resolve("oci"), "5", 1, 3_000_000, 15));
        images.forEach((name, image) -> skopeo.copy(image.source(), "docker://" + upstream.hostPort() + "/" + name
                + ":" + image.tag(), "--all"));
        return images;
    }

    private static void pullUntilStopped(PullClient clients, URI mirror, Map<String, BuiltImage> images, Random random,
                                         AtomicBoolean running) {
        List<String> names = new ArrayList<>(images.keySet());
        while (running.get()) {
            String name = names.get(random.nextInt(names.size()));
            clients.pull(mirror, name, images.get(name), random);
        }
    }

    /** Prefetches a random image every 100 to 400 ms, and purges one now and then. */
    private static void administerUntilStopped(HttpClient http, int adminPort, Map<String, BuiltImage> images,
                                               Random random, AtomicBoolean running, AtomicLong prefetches,
                                               AtomicLong purges) {
        List<String> names = new ArrayList<>(images.keySet());
        while (running.get()) {
            String name = names.get(random.nextInt(names.size()));
            String image = name + ":" + images.get(name).tag();
            try {
                if (random.nextInt(5) == 0) {
                    send(http, HttpRequest.newBuilder(admin(adminPort, "/admin/cache?image=" + image)).DELETE());
                    purges.incrementAndGet();
                } else {
                    send(http, HttpRequest.newBuilder(admin(adminPort, "/admin/prefetch"))
                            .POST(HttpRequest.BodyPublishers.ofString("{\"image\":\"" + image + "\"}")));
                    prefetches.incrementAndGet();
                }
                Thread.sleep(100 + random.nextInt(300));
            } catch (IOException e) {
                // killed
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private static URI admin(int port, String path) {
        return URI.create("http://127.0.0.1:" + port + path);
    }

    private static void send(HttpClient http, HttpRequest.Builder request) throws IOException, InterruptedException {
        http.send(request.timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.discarding());
    }
}
