package dev.regmirror.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.FileInputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The access log keeps every line when its output stalls, and no event loop waits for it: the
 * output is a named pipe whose reader stops reading while many clients make requests; the server
 * stops reading requests until the reader goes on, then every request has its line.
 */
class AccessLogBackpressureIT {

    private static final int CLIENTS = 16;
    private static final int REQUESTS_EACH = 150;

    @TempDir
    Path tmp;

    @Test
    void aStalledOutputHoldsRequestsBackAndLosesNoLine() throws Exception {
        Path fifo = tmp.resolve("access.pipe");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start().waitFor());
        CountDownLatch resume = new CountDownLatch(1);
        AtomicInteger logged = new AtomicInteger();
        // The reader opens the pipe (meeting the server's writer), then reads nothing until resumed.
        CompletableFuture<Void> reader = CompletableFuture.runAsync(() -> {
            try (BufferedReader lines = new BufferedReader(new InputStreamReader(new FileInputStream(fifo.toFile()),
                    StandardCharsets.UTF_8))) {
                resume.await();
                String line;
                while ((line = lines.readLine()) != null) {
                    if (line.contains(" INFO  regmirror.access - 127.0.0.1 \"GET /v2/\" 200 2 ")) {
                        logged.incrementAndGet();
                    }
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        AtomicInteger answered = new AtomicInteger();
        ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
        try (MirrorFixture mirror = MirrorFixture.start(URI.create("http://127.0.0.1:1"), tmp.resolve("cache"),
                Map.of("regmirror.server.access-log.output", fifo.toString(),
                        "regmirror.server.access-log.high-water-mark", 64))) {
            List<Future<Integer>> runs = new ArrayList<>();
            for (int c = 0; c < CLIENTS; c++) {
                runs.add(clients.submit(() -> {
                    int ok = 0;
                    for (int i = 0; i < REQUESTS_EACH; i++) {
                        HttpResponse<byte[]> response = mirror.get("/v2/");
                        if (response.statusCode() == 200) {
                            ok++;
                        }
                        answered.incrementAndGet();
                    }
                    return ok;
                }));
            }
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (mirror.meters().get("regmirror.access.log.backpressure").counter().count() < 1) {
                assertTrue(System.nanoTime() < deadline, "connections never held back; " + answered + " answered");
                Thread.onSpinWait();
            }
            assertTrue(answered.get() < CLIENTS * REQUESTS_EACH, "every request answered while the log stalled");

            resume.countDown();
            int ok = 0;
            for (Future<Integer> run : runs) {
                ok += run.get(120, TimeUnit.SECONDS);
            }
            assertEquals(CLIENTS * REQUESTS_EACH, ok);
        } finally {
            resume.countDown();
            clients.shutdownNow();
        }
        // Closing the server wrote the last lines and closed the pipe: the reader has seen them all.
        reader.get(60, TimeUnit.SECONDS);
        assertEquals(CLIENTS * REQUESTS_EACH, logged.get());
    }
}
