package dev.regmirror.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.testing.BuiltImage;
import dev.regmirror.core.testing.RegistryProcess;
import dev.regmirror.core.testing.Skopeo;
import dev.regmirror.core.testing.TestImages;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code regmirror verify}, the built jar run as a user runs it, against {@code regmirror serve}
 * with a real registry as its docker.io, after a byte of a cached layer was flipped on disk: exit
 * code 3 and the corrupt blob named with its quarantine file, then 0 once the next pull fetched it
 * again; the job id without {@code --wait}; a refused token in one line.
 */
class VerifyCliIT {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path work;

    @Test
    void verifyFindsAFlippedByteExitsThreeAndZeroOnceRepaired() throws Exception {
        try (RegistryProcess upstream = RegistryProcess.start(); Skopeo skopeo = new Skopeo()) {
            BuiltImage image = TestImages.singleArch(work.resolve("image"), "1.0", 2, 300_000, 62);
            skopeo.copy(image.source(), "docker://" + upstream.hostPort() + "/library/app:1.0");
            int port = RegmirrorProcess.freePort();
            int adminPort = RegmirrorProcess.freePort();
            String server = "http://127.0.0.1:" + adminPort;
            Path config = RegmirrorProcess.config(work, "application", port, adminPort, "cache",
                    upstream.url().toString(), "regmirror.admin.token = \"s3cret\"", "regmirror.cache.verify-rate = 1G");
            try (RegmirrorProcess mirror = RegmirrorProcess.serve(work, config, port, List.of())) {
                skopeo.copyToDir("docker://127.0.0.1:" + port + "/app:1.0", work.resolve("pulled-1"));
                Digest rotten = image.manifest().layers().get(0).digest();
                Path file = blobFile(rotten);
                try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
                    raf.seek(1000);
                    int b = raf.read();
                    raf.seek(1000);
                    raf.write(b ^ 0x10);
                }

                RegmirrorProcess.Finished damaged = cli("verify", "--wait", "--server", server, "--token", "s3cret");
                assertEquals(3, damaged.exitCode(), damaged.output());
                String out = damaged.output();
                assertTrue(out.startsWith("verified 4 blobs ("), out);
                assertTrue(out.contains(" and 1 manifests in "), out);
                assertTrue(out.contains("corrupt blobs: 1, moved to quarantine and no longer served:\n  " + rotten + "  "),
                        out);
                assertTrue(out.contains("(the next pull fetches it again from the upstream)"), out);
                assertTrue(out.contains("missing references: 1 (0 of hosted manifests;"), out);
                assertTrue(out.contains("  blob " + rotten + " of manifest " + image.digest()), out);
                assertFalse(Files.exists(file), "moved aside");
                try (var quarantined = Files.list(work.resolve("cache/quarantine/sha256"))) {
                    List<Path> files = quarantined.toList();
                    assertEquals(1, files.size());
                    assertTrue(files.get(0).getFileName().toString().startsWith(rotten.hex() + "-"), files.toString());
                    assertTrue(out.contains("-> " + files.get(0).toAbsolutePath().normalize()), out);
                }

                upstream.reset();
                skopeo.copyToDir("docker://127.0.0.1:" + port + "/app:1.0", work.resolve("pulled-2"));
                assertEquals(1, upstream.blobGets().size(), "the quarantined layer, again: " + upstream.blobGets());

                RegmirrorProcess.Finished clean = cli("verify", "--wait", "--server", server, "--token", "s3cret");
                assertEquals(0, clean.exitCode(), clean.output());
                assertTrue(clean.output().contains("corrupt blobs: none\nmissing references: none\n"), clean.output());

                RegmirrorProcess.Finished started = cli("verify", "--server", server, "--token", "s3cret", "-o", "json");
                assertEquals(0, started.exitCode(), started.output());
                JsonNode job = JSON.readTree(started.output());
                assertEquals("verify", job.get("type").asText());
                RegmirrorProcess.Finished listed = cli("jobs", job.get("id").asText(), "--server", server, "--token",
                        "s3cret", "-o", "json");
                assertEquals(0, listed.exitCode(), listed.output());
                assertEquals(job.get("id").asText(), JSON.readTree(listed.output()).get("id").asText());

                RegmirrorProcess.Finished refused = cli("verify", "--wait", "--server", server, "--token", "wrong");
                assertEquals(1, refused.exitCode(), refused.output());
                assertEquals("regmirror: the admin API at " + server
                        + " refused the request (401): UNAUTHORIZED wrong admin token\n", refused.output());
            }
        }
    }

    private RegmirrorProcess.Finished cli(String... args) throws Exception {
        return RegmirrorProcess.run(work, List.of(), args);
    }

    private Path blobFile(Digest digest) {
        return work.resolve("cache/blobs").resolve(digest.algorithm()).resolve(digest.hex().substring(0, 2))
                .resolve(digest.hex());
    }
}
