package dev.regmirror.core.testing;

import dev.regmirror.core.reference.Digest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A real CNCF distribution registry ({@code /usr/bin/docker-registry}) on 127.0.0.1 and a free
 * port, with filesystem storage in a temp dir, whose access log a test can count.
 *
 * <p>Counting is race-free: {@link #requests()} first sends a marker request and waits until the
 * registry has logged it in both its access log and its application log (plus a short quiet spell),
 * so every request answered before the call is seen. The process output goes to {@link #logFile()}
 * and {@link #output()}.
 */
public final class RegistryProcess implements AutoCloseable {

    public static final String BINARY = "/usr/bin/docker-registry";
    private static final Pattern BLOB_PATH = Pattern.compile("/v2/.+/blobs/sha256:[a-f0-9]{64}");
    private static final String SYNC_AGENT = "regmirror-harness-sync/";
    private static final long START_TIMEOUT_MILLIS = 15_000;
    private static final long SYNC_TIMEOUT_MILLIS = 10_000;
    private static final long QUIET_MILLIS = 50;

    private final int port;
    private final Path workDir;
    private final RequestLog<LoggedRequest> accessLog = new RequestLog<>(LoggedRequest::parse, LoggedRequest::userAgent,
            SYNC_AGENT);
    private final RequestLog<TimedRequest> timedLog = new RequestLog<>(TimedRequest::parse, TimedRequest::userAgent,
            SYNC_AGENT);
    private final AtomicLong syncs = new AtomicLong();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final Process process;
    private final ProcessOutput output;
    private final Thread killOnExit;

    private RegistryProcess(int port, URI remote) throws IOException {
        this.port = port;
        this.workDir = Files.createTempDirectory("regmirror-registry-");
        Path logDir = Files.isDirectory(Path.of("target")) ? Path.of("target", "registry-logs") : workDir;
        Files.createDirectories(logDir);
        Path config = workDir.resolve("config.yml");
        Files.writeString(config, RegistryConfig.yaml(hostPort(), workDir.resolve("storage"), remote));
        this.process = new ProcessBuilder(BINARY, "serve", config.toString()).directory(workDir.toFile()).start();
        try {
            this.output = new ProcessOutput(process, logDir.resolve("registry-" + port + "-" + System.nanoTime()
                    + ".log"), "registry-" + port, accessLog::accept, timedLog::accept);
        } catch (IOException e) {
            process.destroyForcibly();
            throw e;
        }
        this.killOnExit = new Thread(process::destroyForcibly, "kill registry " + port);
        Runtime.getRuntime().addShutdownHook(killOnExit);
    }

    /** Starts a standalone registry that accepts pushes. */
    public static RegistryProcess start() {
        return startWithRetry(null);
    }

    /** Starts a registry in pull-through proxy mode ({@code proxy.remoteurl}) in front of {@code remote}. */
    public static RegistryProcess startProxyOf(URI remote) {
        return startWithRetry(remote);
    }

    /** {@code http://127.0.0.1:PORT}. */
    public URI url() {
        return URI.create("http://" + hostPort());
    }

    /** {@code 127.0.0.1:PORT}, as a skopeo {@code docker://} reference starts. */
    public String hostPort() {
        return "127.0.0.1:" + port;
    }

    public int port() {
        return port;
    }

    /** The registry's storage root ({@code storage.filesystem.rootdirectory}). */
    public Path storageDir() {
        return workDir.resolve("storage");
    }

    /** The process's stdout and stderr, kept after close under target/registry-logs when run by Maven. */
    public Path logFile() {
        return output.file();
    }

    /** Everything the process printed so far. */
    public String output() {
        return output.text();
    }

    /** Every request answered since start or the last {@link #reset()}, in log order. */
    public List<LoggedRequest> requests() {
        awaitQuiet();
        return accessLog.requests();
    }

    /**
     * Every request handled since start or the last {@link #reset()}, as the registry's own
     * application log times them (when each started and ended), in the order they ended.
     */
    public List<TimedRequest> timedRequests() {
        awaitQuiet();
        return timedLog.requests();
    }

    /** How many requests had {@code method} and a path (query excluded) fully matching {@code pathRegex}. */
    public long count(String method, String pathRegex) {
        Pattern path = Pattern.compile(pathRegex);
        return requests().stream()
                .filter(r -> r.method().equals(method) && path.matcher(r.path()).matches())
                .count();
    }

    /** The GETs of {@code /v2/<name>/blobs/sha256:<hex>}, whatever their status. */
    public List<LoggedRequest> blobGets() {
        return requests().stream()
                .filter(r -> r.method().equals("GET") && BLOB_PATH.matcher(r.path()).matches())
                .toList();
    }

    /** The digests of {@link #blobGets()}, in log order, a blob asked twice listed twice. */
    public List<Digest> blobGetDigests() {
        return blobGets().stream().map(r -> Digest.parse(
                r.path().substring(r.path().lastIndexOf('/') + 1))).toList();
    }

    /** Forgets the requests counted so far (after waiting for those already answered). */
    public void reset() {
        awaitQuiet();
        accessLog.reset();
        timedLog.reset();
    }

    /**
     * Returns once every request the registry answered before this call is in both logs: sends a
     * marker request, waits until both logged it, then until no line arrived for 50 ms.
     */
    public void awaitQuiet() {
        String agent = SYNC_AGENT + syncs.incrementAndGet();
        try {
            HttpResponse<Void> response = http.send(HttpRequest.newBuilder(url().resolve("/v2/"))
                    .header("User-Agent", agent).timeout(Duration.ofSeconds(5)).build(),
                    HttpResponse.BodyHandlers.discarding());
            if (response.statusCode() != 200 || !accessLog.awaitSync(agent, SYNC_TIMEOUT_MILLIS)
                    || !timedLog.awaitSync(agent, SYNC_TIMEOUT_MILLIS)) {
                throw new IllegalStateException("registry " + hostPort() + " did not log its marker request ("
                        + response.statusCode() + "); output:\n" + output());
            }
            accessLog.awaitQuiet(QUIET_MILLIS, SYNC_TIMEOUT_MILLIS);
            timedLog.awaitQuiet(QUIET_MILLIS, SYNC_TIMEOUT_MILLIS);
        } catch (IOException e) {
            throw new UncheckedIOException("marker request to registry " + hostPort(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    @Override
    public void close() {
        try {
            stop(process, killOnExit);
        } finally {
            output.close();
            deleteRecursively(workDir);
        }
    }

    /**
     * Ends a test's child process: asks it to stop, kills it after 5 s, and drops the shutdown hook
     * that would have killed it when the JVM ends.
     */
    static void stop(Process process, Thread killOnExit) {
        process.destroy();
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(killOnExit);
            } catch (IllegalStateException e) {
                // the JVM is already shutting down and runs the hook itself
            }
        }
    }

    private static RegistryProcess startWithRetry(URI remote) {
        IllegalStateException failure = null;
        for (int attempt = 0; attempt < 3; attempt++) {
            RegistryProcess registry;
            try {
                registry = new RegistryProcess(freePort(), remote);
            } catch (IOException e) {
                throw new UncheckedIOException("start " + BINARY, e);
            }
            try {
                registry.awaitReady();
                registry.reset();
                return registry;
            } catch (RuntimeException e) {
                registry.close();
                if (!registry.output().contains("address already in use")) {
                    throw e;
                }
                failure = e instanceof IllegalStateException ise ? ise : new IllegalStateException(e);
            }
        }
        throw failure;
    }

    /** Ready once this process logged that it listens (so 200 is not from another server) and GET /v2/ is 200. */
    private void awaitReady() {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(START_TIMEOUT_MILLIS);
        HttpRequest ping = HttpRequest.newBuilder(url().resolve("/v2/")).timeout(Duration.ofSeconds(1)).build();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("registry on " + hostPort() + " exited with "
                        + process.exitValue() + "; output:\n" + output.drain());
            }
            try {
                if (output.text().contains("listening on " + hostPort())
                        && http.send(ping, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    return;
                }
                Thread.sleep(20);
            } catch (IOException e) {
                // not listening yet
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", e);
            }
        }
        throw new IllegalStateException("registry on " + hostPort() + " did not answer GET /v2/ with 200 within "
                + START_TIMEOUT_MILLIS + " ms; output:\n" + output());
    }


    static int freePort() throws IOException {
        return FreePorts.pick();
    }

    static void deleteRecursively(Path dir) {
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // best effort: a temp dir left behind is not worth failing a test for
        }
    }
}
