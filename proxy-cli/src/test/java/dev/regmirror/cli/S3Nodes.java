package dev.regmirror.cli;

import dev.regmirror.core.testing.S3ProxyProcess;
import java.io.IOException;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The built jar as a node whose cache is in a bucket of an {@link S3ProxyProcess}, for the S3 CLI
 * tests: its configuration, and a wait for its admin listener.
 */
final class S3Nodes {

    /** The key prefix of every node's objects. */
    static final String PREFIX = "mirror/";

    private S3Nodes() {
    }

    /**
     * Writes {@code <work>/<bucket>.conf}: a node on the bucket reached at {@code endpoint} (S3Proxy
     * itself or a proxy in front of it), its spool in {@code <work>/<bucket>}, 5 MiB parts, docker.io
     * served by {@code upstream}, then {@code extraLines}.
     */
    static Path config(Path work, URI endpoint, String bucket, int port, int adminPort, URI upstream,
                       String... extraLines) throws IOException {
        List<String> lines = new ArrayList<>(List.of(
                "regmirror.storage.type = s3",
                "regmirror.storage.s3.endpoint = \"" + endpoint + "\"",
                "regmirror.storage.s3.bucket = \"" + bucket + "\"",
                "regmirror.storage.s3.prefix = \"" + PREFIX + "\"",
                "regmirror.storage.s3.path-style = true",
                "regmirror.storage.s3.access-key = \"" + S3ProxyProcess.ACCESS_KEY + "\"",
                "regmirror.storage.s3.secret-key = \"" + S3ProxyProcess.SECRET_KEY + "\"",
                "regmirror.storage.s3.part-size = 5M"));
        lines.addAll(List.of(extraLines));
        return RegmirrorProcess.config(work, bucket, port, adminPort, bucket, upstream.toString(),
                lines.toArray(String[]::new));
    }

    /** RegmirrorProcess.serve waits for the registry port; the admin listener is bound just after it. */
    static void awaitListening(int port) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            try (Socket socket = new Socket("127.0.0.1", port)) {
                return;
            } catch (IOException notYet) {
                if (System.nanoTime() > deadline) {
                    throw notYet;
                }
                Thread.sleep(50);
            }
        }
    }
}
