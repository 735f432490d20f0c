package dev.regmirror.cli;

import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The built regmirror jar running in its own JVM, started the way the README starts it (with the JVM
 * flags the launcher passes). A command that overruns its time is not just killed: the failure
 * carries a thread dump of it and of every mirror still serving, with the mirrors' logs, so that a
 * hang says where it waited.
 */
final class RegmirrorProcess implements AutoCloseable {

    /** How long a one-shot command may take; an export of a few MB takes a second or two. */
    static final Duration COMMAND_LIMIT = Duration.ofSeconds(60);

    /** Mirrors started by {@link #serve} and not closed yet, for the dumps of an overrun. */
    private static final Set<RegmirrorProcess> SERVING = ConcurrentHashMap.newKeySet();

    private final Process process;
    private final Path output;
    private final int port;

    private RegmirrorProcess(Process process, Path output, int port) {
        this.process = process;
        this.output = output;
        this.port = port;
    }

    static Path jar() {
        Path jar = Path.of(System.getProperty("regmirror.jar", "target/regmirror.jar"));
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException(jar + " is missing: run the ITs with mvn verify, after package");
        }
        return jar;
    }

    /**
     * Writes {@code <workDir>/<name>.conf}: the registry API on 127.0.0.1:{@code port}, the admin API
     * on {@code adminPort} (0: any), the cache in {@code <workDir>/<cacheDir>}, docker.io served by
     * {@code upstream} without token auth, then {@code extraLines}.
     */
    static Path config(Path workDir, String name, int port, int adminPort, String cacheDir, String upstream,
                       String... extraLines) throws IOException {
        Path config = workDir.resolve(name + ".conf");
        Files.writeString(config, """
                regmirror.server.host = "127.0.0.1"
                regmirror.server.port = %d
                regmirror.admin.port = %d
                regmirror.cache.directory = "%s"
                regmirror.upstreams.dockerhub.url = "%s"
                regmirror.upstreams.dockerhub.token-realm = ""
                %s
                """.formatted(port, adminPort, cacheDir, upstream, String.join("\n", extraLines)));
        return config;
    }

    static int freePort() throws IOException {
        return dev.regmirror.core.testing.FreePorts.pick();
    }

    /** Runs {@code java <jvmArgs> -jar regmirror.jar <args>} and waits for it to exit. */
    static Finished run(Path workDir, List<String> jvmArgs, String... args) throws IOException, InterruptedException {
        Path out = Files.createTempFile(workDir, "regmirror-", ".log");
        Process process = builder(workDir, out, jvmArgs, args).start();
        return finish(process, out, String.join(" ", args));
    }

    /** Waits for a one-shot command; past {@link #COMMAND_LIMIT} fails with the dumps of what hung. */
    private static Finished finish(Process process, Path out, String what) throws IOException, InterruptedException {
        if (!process.waitFor(COMMAND_LIMIT.toSeconds(), TimeUnit.SECONDS)) {
            StringBuilder report = new StringBuilder("regmirror " + what + " did not exit within "
                    + COMMAND_LIMIT.toSeconds() + " s\n--- its output:\n" + Files.readString(out));
            report.append(threadDump("the command", process));
            for (RegmirrorProcess server : SERVING) {
                report.append(threadDump("the mirror serving on port " + server.port, server.process));
                report.append("\n--- the mirror's log:\n").append(server.output());
            }
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            throw new IllegalStateException(report.toString());
        }
        return new Finished(process.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
    }

    /**
     * {@code jcmd <pid> Thread.print} of a live process (of its JVM: under {@code script}, the shell's
     * java child), or why there is none.
     */
    static String threadDump(String whose, Process process) {
        StringBuilder dump = new StringBuilder();
        List<ProcessHandle> jvms = new ArrayList<>();
        jvms.add(process.toHandle());
        process.toHandle().descendants().forEach(jvms::add);
        for (ProcessHandle jvm : jvms) {
            if (!jvm.isAlive() || jvm.info().command().filter(c -> c.endsWith("java")).isEmpty()) {
                continue;
            }
            dump.append("\n--- thread dump of ").append(whose).append(" (pid ").append(jvm.pid()).append("):\n");
            try {
                Process jcmd = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
                        Long.toString(jvm.pid()), "Thread.print").redirectErrorStream(true).start();
                byte[] text = jcmd.getInputStream().readAllBytes();
                jcmd.waitFor(30, TimeUnit.SECONDS);
                dump.append(new String(text, StandardCharsets.UTF_8));
            } catch (IOException | InterruptedException e) {
                dump.append("jcmd failed: ").append(e);
            }
        }
        return dump.length() == 0 ? "\n--- no live JVM of " + whose + " to dump" : dump.toString();
    }

    /**
     * Runs {@code regmirror <args>} as {@link #run} does, but on a pseudo-terminal made by util-linux
     * {@code script}, so that {@code System.console()} is there, as when a user types the command; the
     * output is what the terminal received ({@code \r\n} line ends).
     */
    static Finished runOnTerminal(Path workDir, String... args) throws IOException, InterruptedException {
        String command = String.join(" ", command(List.of(), args).stream()
                .map(word -> "'" + word.replace("'", "'\\''") + "'").toList());
        Path out = Files.createTempFile(workDir, "regmirror-", ".log");
        ProcessBuilder builder = new ProcessBuilder("script", "-qfec", command, "/dev/null").directory(workDir.toFile())
                .redirectErrorStream(true).redirectOutput(out.toFile());
        cleanEnvironment(builder);
        Process process = builder.start();
        return finish(process, out, String.join(" ", args) + " (on a terminal)");
    }

    /** Whether util-linux {@code script}, which {@link #runOnTerminal} needs, is on the PATH. */
    static boolean scriptAvailable() {
        return Stream.of(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator))
                .anyMatch(dir -> !dir.isEmpty() && Files.isExecutable(Path.of(dir, "script")));
    }

    /** Starts {@code regmirror serve --config <config>} and waits until {@code /v2/} answers on the port. */
    static RegmirrorProcess serve(Path workDir, Path config, int port, List<String> jvmArgs)
            throws IOException, InterruptedException {
        Path out = Files.createTempFile(workDir, "regmirror-", ".log");
        Process process = builder(workDir, out, jvmArgs, "serve", "--config", config.toString()).start();
        RegmirrorProcess started = new RegmirrorProcess(process, out, port);
        HttpClient http = HttpClient.newHttpClient();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("regmirror exited with " + process.exitValue() + ":\n" + started.output());
            }
            try {
                HttpResponse<Void> response = http.send(HttpRequest.newBuilder(started.uri("/v2/"))
                        .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.discarding());
                if (response.statusCode() == 200 || response.statusCode() == 401) { // 401: accounts or rules
                    SERVING.add(started);
                    return started;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            Thread.sleep(100);
        }
        started.close();
        throw new IllegalStateException("regmirror did not answer within 30 s:\n" + started.output());
    }

    /**
     * Flags for a quick start on a busy 2-core machine, for tests about what a kill leaves rather than
     * speed: C1 only and the serial collector (a start takes a third of the time).
     */
    static final List<String> QUICK_JVM = List.of("-Xmx256m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC");

    /**
     * {@link #serve} with {@link #QUICK_JVM} after a kill: the port the killed process held may take a
     * moment to free, so a failed start is tried again, up to five times.
     */
    static RegmirrorProcess serveAfterKill(Path workDir, Path config, int port) throws Exception {
        IllegalStateException failure = null;
        for (int attempt = 0; attempt < 5; attempt++) {
            try {
                return serve(workDir, config, port, QUICK_JVM);
            } catch (IllegalStateException e) {
                failure = e;
                Thread.sleep(500);
            }
        }
        throw failure;
    }

    private static ProcessBuilder builder(Path workDir, Path out, List<String> jvmArgs, String... args) {
        ProcessBuilder builder = new ProcessBuilder(command(jvmArgs, args)).directory(workDir.toFile())
                .redirectErrorStream(true).redirectOutput(out.toFile());
        cleanEnvironment(builder);
        return builder;
    }

    private static void cleanEnvironment(ProcessBuilder builder) {
        builder.environment().keySet().removeIf(name -> name.startsWith("REGMIRROR_") || name.startsWith("CONFIG_FORCE_"));
    }

    private static List<String> command(List<String> jvmArgs, String... args) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(ServeCommand.JVM_FLAGS); // as the launcher passes them
        command.addAll(jvmArgs);
        command.add("-jar");
        command.add(jar().toAbsolutePath().toString());
        command.addAll(List.of(args));
        return command;
    }

    URI uri(String path) {
        return URI.create("http://127.0.0.1:" + port + path);
    }

    /**
     * Waits (at most 30 s) until no blob fill is running, as {@code /metrics} reports it. A
     * response ends once its blob is verified; the fill commits it (sync, rename) just after, so a
     * test that looks at the cache right after a miss waits for this first.
     */
    void awaitFillsCommitted() throws IOException, InterruptedException {
        HttpClient http = HttpClient.newHttpClient();
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!http.send(HttpRequest.newBuilder(uri("/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body()
                .contains("regmirror_fills_inflight 0.0")) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("blob fills still running after 30 s");
            }
            Thread.onSpinWait();
        }
    }

    /** Kills the process at once (SIGKILL), as a crash or an OOM killer would. */
    void kill() throws InterruptedException {
        SERVING.remove(this);
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }

    boolean isAlive() {
        return process.isAlive();
    }

    String output() throws IOException {
        return Files.readString(output, StandardCharsets.UTF_8);
    }

    @Override
    public void close() throws InterruptedException {
        SERVING.remove(this);
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
    }

    /** How a run that exited ended. */
    record Finished(int exitCode, String output) {
    }
}
