package dev.regmirror.core.testing;

import dev.regmirror.core.reference.Digest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Runs {@code /usr/bin/skopeo} against plain-HTTP registries, isolated from the host's containers
 * configuration (no trust policy, an empty auth file and registries.conf), and fails with its whole
 * output when it exits non-zero or times out.
 */
public final class Skopeo implements AutoCloseable {

    public static final String BINARY = "/usr/bin/skopeo";

    private final Duration timeout;
    private final Path workDir;
    private final Path authFile;
    private final Path registriesConf;

    public Skopeo() {
        this(Duration.ofSeconds(60));
    }

    public Skopeo(Duration timeout) {
        this.timeout = timeout;
        try {
            this.workDir = Files.createTempDirectory("regmirror-skopeo-");
            this.authFile = Files.writeString(workDir.resolve("auth.json"), "{}");
            this.registriesConf = Files.writeString(workDir.resolve("registries.conf"), "");
            Files.createDirectories(workDir.resolve("registries.d"));
        } catch (IOException e) {
            throw new UncheckedIOException("create skopeo work dir", e);
        }
    }

    /**
     * {@code skopeo copy src dest}, TLS verification off on both sides; {@code extraArgs} go before
     * the references, e.g. {@code "--all"} or {@code "--format", "v2s2"}. Returns skopeo's output.
     */
    public String copy(String src, String dest, String... extraArgs) {
        List<String> args = new ArrayList<>(List.of("copy", "--src-tls-verify=false", "--dest-tls-verify=false",
                "--authfile", authFile.toString()));
        args.addAll(Arrays.asList(extraArgs));
        args.add(src);
        args.add(dest);
        return new String(run(args).stdout(), StandardCharsets.UTF_8);
    }

    /** Copies {@code src} into a {@code dir:} directory: one file per blob named by its hex digest. */
    public String copyToDir(String src, Path dir, String... extraArgs) {
        return copy(src, "dir:" + dir, extraArgs);
    }

    /** Copies {@code src} into an OCI layout under {@code tag}. */
    public String copyToOci(String src, Path layout, String tag, String... extraArgs) {
        return copy(src, "oci:" + layout + ":" + tag, extraArgs);
    }

    /** The manifest (or index) bytes exactly as served: {@code skopeo inspect --raw}. */
    public byte[] inspectRaw(String ref) {
        return run(List.of("inspect", "--raw", "--tls-verify=false", "--authfile", authFile.toString(), ref)).stdout();
    }

    /** The digest of {@link #inspectRaw}'s bytes, which is the digest the registry names them by. */
    public Digest inspectDigest(String ref) {
        return Digest.sha256Of(inspectRaw(ref));
    }

    /** Runs skopeo with the isolating global flags, linux/amd64 for choosing from an index, and {@code args}. */
    public Result run(List<String> args) {
        List<String> command = new ArrayList<>(List.of(BINARY, "--insecure-policy",
                "--registries.d", workDir.resolve("registries.d").toString(),
                "--override-os", "linux", "--override-arch", "amd64"));
        command.addAll(args);
        try {
            Path out = Files.createTempFile(workDir, "out-", ".txt");
            Path err = Files.createTempFile(workDir, "err-", ".txt");
            ProcessBuilder builder = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile());
            Map<String, String> env = builder.environment();
            env.put("REGISTRY_AUTH_FILE", authFile.toString());
            env.put("CONTAINERS_REGISTRIES_CONF", registriesConf.toString());
            env.put("TMPDIR", workDir.toString());
            Process process = builder.start();
            boolean finished = process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (!finished) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
            Result result = new Result(finished ? process.exitValue() : -1, Files.readAllBytes(out),
                    Files.readString(err, StandardCharsets.UTF_8));
            Files.delete(out);
            Files.delete(err);
            if (!finished || result.exitCode() != 0) {
                throw new IllegalStateException(String.join(" ", command)
                        + (finished ? " exited with " + result.exitCode() : " timed out after " + timeout)
                        + "\nstdout:\n" + new String(result.stdout(), StandardCharsets.UTF_8)
                        + "\nstderr:\n" + result.stderr()
                        + (finished ? "" : "\nthreads of the test JVM, where an in-process mirror runs:\n"
                                + ThreadDump.ofThisJvm()));
            }
            return result;
        } catch (IOException e) {
            throw new UncheckedIOException("run " + command, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted running " + command, e);
        }
    }

    @Override
    public void close() {
        try (Stream<Path> paths = Files.walk(workDir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // best effort
        }
    }

    /** What a skopeo run left: exit code, stdout bytes and stderr text. */
    public record Result(int exitCode, byte[] stdout, String stderr) {
    }
}
