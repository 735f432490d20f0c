package dev.regmirror.core.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real S3 server for the tests: S3Proxy (the S3 API over a filesystem back end) as a process of
 * its own on 127.0.0.1 and a free port, with SigV4 authentication and one access key pair. The
 * jar is copied to {@code target/s3proxy/s3proxy.jar} by the build (maven-dependency-plugin). It
 * can be stopped and started again on the same port and data, as a store that goes away and
 * comes back.
 */
public final class S3ProxyProcess implements AutoCloseable {

    public static final String ACCESS_KEY = "regmirror-test";
    public static final String SECRET_KEY = "regmirror-test-secret";
    private static final long START_TIMEOUT_MILLIS = 30_000;

    private final int port;
    private final Path workDir;
    private final Path jar;
    private final boolean logRequests;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private Process process;
    private ProcessOutput output;
    private Thread killOnExit;

    private S3ProxyProcess(int port, Path workDir, Path jar, boolean logRequests) {
        this.port = port;
        this.workDir = workDir;
        this.jar = jar;
        this.logRequests = logRequests;
    }

    /** Starts S3Proxy with no bucket; see {@link #createBucket}. */
    public static S3ProxyProcess start() {
        return start(false);
    }

    /** Starts S3Proxy with no bucket, logging every request it is sent, for {@link #requests()}. */
    public static S3ProxyProcess startLoggingRequests() {
        return start(true);
    }

    private static S3ProxyProcess start(boolean logRequests) {
        Path jar = Path.of("target", "s3proxy", "s3proxy.jar").toAbsolutePath();
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException(jar + " is missing: the build copies it in process-test-resources "
                    + "(maven-dependency-plugin execution s3proxy)");
        }
        try {
            S3ProxyProcess s3 = new S3ProxyProcess(RegistryProcess.freePort(),
                    Files.createTempDirectory("regmirror-s3proxy-"), jar, logRequests);
            Files.createDirectories(s3.workDir.resolve("data"));
            s3.launch();
            return s3;
        } catch (IOException e) {
            throw new UncheckedIOException("start S3Proxy", e);
        }
    }

    /**
     * The settings of a regmirror node whose cache is in {@code bucket} on this server, under
     * {@code prefix} ("" for none), with 5 MiB parts (the least S3 takes, so a few MB make several):
     * a map to add a test's own settings to.
     */
    public java.util.Map<String, Object> storageSettings(String bucket, String prefix) {
        java.util.Map<String, Object> settings = new java.util.HashMap<>(java.util.Map.of(
                "regmirror.storage.type", "s3",
                "regmirror.storage.s3.endpoint", endpoint().toString(),
                "regmirror.storage.s3.bucket", bucket,
                "regmirror.storage.s3.path-style", true,
                "regmirror.storage.s3.access-key", ACCESS_KEY,
                "regmirror.storage.s3.secret-key", SECRET_KEY,
                "regmirror.storage.s3.part-size", "5M"));
        if (!prefix.isEmpty()) {
            settings.put("regmirror.storage.s3.prefix", prefix);
        }
        return settings;
    }

    /**
     * As {@link #storageSettings}, parsed: the bucket's settings for a test that opens the store
     * itself, with {@code partSize} parts, no redirect, and the default change-log interval.
     */
    public dev.regmirror.core.config.S3Settings s3Settings(String bucket, String prefix, long partSize) {
        return new dev.regmirror.core.config.S3Settings(java.util.Optional.of(endpoint()), "us-east-1", bucket, prefix,
                true, java.util.Optional.of(ACCESS_KEY), java.util.Optional.of(SECRET_KEY), java.util.Optional.empty(),
                partSize, false, Duration.ofMinutes(5), Duration.ofSeconds(1));
    }

    /** {@code http://127.0.0.1:PORT}. */
    public URI endpoint() {
        return URI.create("http://127.0.0.1:" + port);
    }

    /** Creates an empty bucket (a directory of the filesystem back end). */
    public void createBucket(String bucket) {
        try {
            Files.createDirectories(workDir.resolve("data").resolve(bucket));
        } catch (IOException e) {
            throw new UncheckedIOException("create bucket " + bucket, e);
        }
    }

    /** The files the back end holds for the bucket, relative to it: what is really stored. */
    public List<String> storedKeys(String bucket) {
        Path root = workDir.resolve("data").resolve(bucket);
        List<String> keys = new ArrayList<>();
        try (var paths = Files.walk(root)) {
            paths.filter(Files::isRegularFile).forEach(p -> keys.add(root.relativize(p).toString()));
        } catch (IOException e) {
            throw new UncheckedIOException("list " + root, e);
        }
        return keys;
    }

    /** The file the back end holds an object's bytes in, such as {@code blobs/sha256/ab/ab12…}. */
    public Path storedObject(String bucket, String key) {
        return workDir.resolve("data").resolve(bucket).resolve(key);
    }

    /** Stops the server; its data stays for {@link #restart()}. */
    public void stop() {
        if (process == null) {
            return;
        }
        try {
            RegistryProcess.stop(process, killOnExit);
        } finally {
            output.close();
            process = null;
        }
    }

    /** Starts the server again on the same port and data. */
    public void restart() {
        if (process != null) {
            throw new IllegalStateException("S3Proxy is running");
        }
        try {
            launch();
        } catch (IOException e) {
            throw new UncheckedIOException("restart S3Proxy", e);
        }
    }

    /**
     * The requests sent so far, as {@code "HEAD /bucket/key"} (the query left out), in the order
     * S3Proxy logged them; only when started by {@link #startLoggingRequests()}. A marker request
     * is sent and awaited in the log first, so every request answered before the call is in.
     */
    public List<String> requests() {
        if (!logRequests) {
            throw new IllegalStateException("S3Proxy was not started logging requests");
        }
        String mark = "/regmirror-test-mark-" + System.nanoTime();
        try {
            http.send(HttpRequest.newBuilder(URI.create(endpoint() + mark)).method("HEAD",
                    HttpRequest.BodyPublishers.noBody()).timeout(Duration.ofSeconds(5)).build(),
                    HttpResponse.BodyHandlers.discarding());
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!output().contains(mark + ")")) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("S3Proxy did not log the marker request " + mark);
                }
                Thread.sleep(10);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("marker request to S3Proxy", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
        List<String> requests = new ArrayList<>();
        String marker = "request: Request(";
        String origin = endpoint().toString();
        for (String line : output().split("\n")) {
            int at = line.indexOf(marker);
            if (at < 0) {
                continue;
            }
            String[] request = line.substring(at + marker.length(), line.indexOf(')', at)).split(" ", 2);
            String target = request[1].startsWith(origin) ? request[1].substring(origin.length()) : request[1];
            if (target.startsWith("/regmirror-test-mark-")) {
                continue;
            }
            int query = target.indexOf('?');
            requests.add(request[0] + " " + (query < 0 ? target : target.substring(0, query)));
        }
        return requests;
    }

    /** Everything the running process printed so far. */
    public String output() {
        return output == null ? "" : output.text();
    }

    @Override
    public void close() {
        stop();
        RegistryProcess.deleteRecursively(workDir);
    }

    private void launch() throws IOException {
        Path properties = workDir.resolve("s3proxy.conf");
        Files.writeString(properties, String.join("\n",
                "s3proxy.endpoint=" + endpoint(),
                "s3proxy.authorization=aws-v2-or-v4",
                "s3proxy.identity=" + ACCESS_KEY,
                "s3proxy.credential=" + SECRET_KEY,
                "jclouds.provider=filesystem",
                "jclouds.filesystem.basedir=" + workDir.resolve("data"),
                ""));
        Path logDir = Files.isDirectory(Path.of("target")) ? Path.of("target", "s3proxy-logs") : workDir;
        Files.createDirectories(logDir);
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new ArrayList<>(List.of(java, "-Xmx256m", "-XX:TieredStopAtLevel=1"));
        if (logRequests) {
            // S3ProxyHandler logs each request at debug: "request: Request(HEAD http://host:port/bucket/key)".
            Path logback = workDir.resolve("logback.xml");
            Files.writeString(logback, String.join("\n",
                    "<configuration>",
                    "  <appender name=\"STDOUT\" class=\"ch.qos.logback.core.ConsoleAppender\">",
                    "    <encoder><pattern>[s3proxy] %.-1p %c{30} %m%n</pattern></encoder>",
                    "  </appender>",
                    "  <logger name=\"org.gaul.s3proxy.S3ProxyHandler\" level=\"debug\"/>",
                    "  <root level=\"info\"><appender-ref ref=\"STDOUT\"/></root>",
                    "</configuration>", ""));
            command.add("-Dlogback.configurationFile=" + logback);
        }
        command.addAll(List.of("-jar", jar.toString(), "--properties", properties.toString()));
        process = new ProcessBuilder(command).directory(workDir.toFile()).start();
        output = new ProcessOutput(process, logDir.resolve("s3proxy-" + port + "-" + System.nanoTime() + ".log"),
                "s3proxy-" + port, line -> { });
        killOnExit = new Thread(process::destroyForcibly, "kill s3proxy " + port);
        Runtime.getRuntime().addShutdownHook(killOnExit);
        awaitReady();
    }

    /** Ready once it logged its start and answers HTTP (403 to an unsigned request). */
    private void awaitReady() {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(START_TIMEOUT_MILLIS);
        HttpRequest ping = HttpRequest.newBuilder(endpoint()).timeout(Duration.ofSeconds(1)).build();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("S3Proxy on port " + port + " exited with " + process.exitValue()
                        + "; output:\n" + output.drain());
            }
            try {
                if (output.text().contains("Started Server")
                        && http.send(ping, HttpResponse.BodyHandlers.discarding()).statusCode() > 0) {
                    return;
                }
                Thread.sleep(50);
            } catch (IOException e) {
                // not listening yet
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", e);
            }
        }
        stop();
        throw new IllegalStateException("S3Proxy on port " + port + " did not start within " + START_TIMEOUT_MILLIS
                + " ms");
    }
}
