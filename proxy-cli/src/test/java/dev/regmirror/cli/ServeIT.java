package dev.regmirror.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.testing.RawBlobUpstream;
import dev.regmirror.core.testing.RegistryProcess;
import dev.regmirror.core.testing.TestCredentials;
import dev.regmirror.core.tls.LocalCa;
import dev.regmirror.core.tls.PemFiles;
import dev.regmirror.core.tls.ServerNames;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The built jar, run as the README runs it: {@code regmirror serve --config FILE}. */
class ServeIT {

    private static final long HEAP_MIB = 64;

    @TempDir
    Path work;

    private Path config(int port, String upstream) throws Exception {
        return RegmirrorProcess.config(work, "application", port, 0, "cache", upstream);
    }

    @Test
    void aBlobFourTimesTheHeapStreamsThroughAndIsCached() throws Exception {
        GeneratedBlob blob = new GeneratedBlob(4 * HEAP_MIB * 1024 * 1024, 7);
        try (RegistryProcess upstream = RegistryProcess.start()) {
            Digest digest = blob.uploadTo(upstream.url(), "library/big");
            int port = RegmirrorProcess.freePort();
            try (RegmirrorProcess mirror = RegmirrorProcess.serve(work, config(port, upstream.url().toString()), port,
                    List.of("-Xmx" + HEAP_MIB + "m"))) {
                upstream.reset();
                HttpClient http = HttpClient.newHttpClient();
                for (int pull = 1; pull <= 2; pull++) {
                    HttpResponse<InputStream> response = http.send(HttpRequest.newBuilder(
                            mirror.uri("/v2/big/blobs/" + digest)).build(), HttpResponse.BodyHandlers.ofInputStream());
                    assertEquals(200, response.statusCode());
                    assertEquals(String.valueOf(blob.size()), response.headers().firstValue("Content-Length").orElse(""));
                    assertEquals(digest, GeneratedBlob.digestOf(response.body()), "pull " + pull);
                }
                mirror.awaitFillsCommitted();
                Path cached = work.resolve("cache/blobs/sha256").resolve(digest.hex().substring(0, 2)).resolve(digest.hex());
                assertEquals(blob.size(), Files.size(cached));
                assertEquals(1, upstream.blobGets().size(), "fetched once, then served from disk");
                assertTrue(mirror.isAlive());
                assertFalse(mirror.output().contains("OutOfMemoryError"), mirror.output());
            }
        }
    }

    /**
     * A 1 GiB blob over HTTP/2 on a TLS listener, cold (followed as it fills) and then cached,
     * through a 64 MiB heap: TLS and HTTP/2 take buffers, not zero-copy regions, and a response
     * holds at most two chunks of them whatever the blob's size.
     */
    @Test
    void aGibibyteOverHttp2KeepsTheHeapFlat() throws Exception {
        GeneratedBlob blob = new GeneratedBlob(1024L * 1024 * 1024, 8);
        LocalCa ca = LocalCa.create("regmirror ServeIT CA", Clock.systemUTC());
        Path chain = work.resolve("server.crt");
        Path key = work.resolve("server.key");
        PemFiles.write(ca.issueServer(new ServerNames(List.of("localhost"), List.of(InetAddress.getByName("127.0.0.1")))),
                chain, key, false);
        try (RegistryProcess upstream = RegistryProcess.start()) {
            Digest digest = blob.uploadTo(upstream.url(), "library/huge");
            int port = RegmirrorProcess.freePort();
            int tlsPort = RegmirrorProcess.freePort();
            Path config = RegmirrorProcess.config(work, "application", port, 0, "cache", upstream.url().toString(),
                    "regmirror.server.listeners.https.port = " + tlsPort,
                    "regmirror.server.listeners.https.tls.certificate = \"" + chain + "\"",
                    "regmirror.server.listeners.https.tls.private-key = \"" + key + "\"");
            try (RegmirrorProcess mirror = RegmirrorProcess.serve(work, config, port, List.of("-Xmx" + HEAP_MIB + "m"))) {
                upstream.reset();
                HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2)
                        .sslContext(TestCredentials.trusting(ca.certificate())).build();
                for (String pull : List.of("cold", "cached")) {
                    HttpResponse<InputStream> response = http.send(HttpRequest.newBuilder(java.net.URI.create(
                            "https://127.0.0.1:" + tlsPort + "/v2/huge/blobs/" + digest)).build(),
                            HttpResponse.BodyHandlers.ofInputStream());
                    assertEquals(HttpClient.Version.HTTP_2, response.version());
                    assertEquals(200, response.statusCode());
                    assertEquals(digest, GeneratedBlob.digestOf(response.body()), pull);
                }
                assertEquals(1, upstream.blobGets().size(), "fetched once, then served from disk");
                assertTrue(mirror.isAlive());
                assertFalse(mirror.output().contains("OutOfMemoryError"), mirror.output());
            }
        }
    }

    @Test
    void killedMidDownloadItLeavesNothingCorruptAndAfterRestartsServesFromDisk() throws Exception {
        byte[] blob = new byte[2_000_000];
        new java.util.Random(51).nextBytes(blob);
        Digest digest = Digest.sha256Of(blob);
        Path committed = work.resolve("cache/blobs/sha256").resolve(digest.hex().substring(0, 2)).resolve(digest.hex());
        try (RawBlobUpstream pausing = RawBlobUpstream.pausing(blob, 1_000_000)) {
            int port = RegmirrorProcess.freePort();
            Path config = config(port, pausing.uri().toString());
            HttpClient http = HttpClient.newHttpClient();
            RegmirrorProcess first = RegmirrorProcess.serve(work, config, port, List.of());
            HttpResponse<InputStream> midway = http.send(HttpRequest.newBuilder(first.uri("/v2/x/blobs/" + digest)).build(),
                    HttpResponse.BodyHandlers.ofInputStream());
            assertEquals(500_000, midway.body().readNBytes(500_000).length, "the download is under way");
            first.kill();
            try (java.util.stream.Stream<Path> leftovers = Files.list(work.resolve("cache/ingest"))) {
                assertTrue(leftovers.findAny().isPresent(), "the crash left a partial download behind");
            }
            assertFalse(Files.exists(committed), "nothing half-written is visible under the digest");

            pausing.release();
            try (RegmirrorProcess second = RegmirrorProcess.serve(work, config, port, List.of())) {
                try (java.util.stream.Stream<Path> leftovers = Files.list(work.resolve("cache/ingest"))) {
                    assertEquals(0, leftovers.count(), "start-up swept the leftovers");
                }
                HttpResponse<byte[]> pulled = http.send(HttpRequest.newBuilder(second.uri("/v2/x/blobs/" + digest)).build(),
                        HttpResponse.BodyHandlers.ofByteArray());
                assertEquals(digest, Digest.sha256Of(pulled.body()));
                second.awaitFillsCommitted();
                assertEquals(blob.length, Files.size(committed));
            }
            int requestsBefore = pausing.requests();
            try (RegmirrorProcess third = RegmirrorProcess.serve(work, config, port, List.of())) {
                HttpResponse<byte[]> again = http.send(HttpRequest.newBuilder(third.uri("/v2/x/blobs/" + digest)).build(),
                        HttpResponse.BodyHandlers.ofByteArray());
                assertEquals(digest, Digest.sha256Of(again.body()));
            }
            assertEquals(requestsBefore, pausing.requests(), "after a restart the blob came from disk");
        }
    }

    @Test
    void invalidConfigurationStopsStartUpNamingTheSetting() throws Exception {
        Path config = work.resolve("bad.conf");
        Files.writeString(config, "regmirror.upstreams.dockerhub.url = \"ftp://nowhere\"\n");
        RegmirrorProcess.Finished run = RegmirrorProcess.run(work, List.of(), "serve", "--config", config.toString());
        assertEquals(2, run.exitCode(), run.output());
        assertTrue(run.output().contains("regmirror.upstreams.dockerhub.url"), run.output());

        RegmirrorProcess.Finished missing = RegmirrorProcess.run(work, List.of(), "serve", "--config", "nope.conf");
        assertEquals(2, missing.exitCode(), missing.output());
        assertTrue(missing.output().contains("nope.conf"), missing.output());
    }

    @Test
    void aTakenPortStopsStartUpNamingTheListener() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Path config = work.resolve("taken.conf");
            Files.writeString(config, "regmirror.server.host = \"127.0.0.1\"\nregmirror.server.port = " + taken.getLocalPort()
                    + "\nregmirror.admin.port = 0\nregmirror.cache.directory = \"" + work.resolve("cache-taken") + "\"\n");
            RegmirrorProcess.Finished run = RegmirrorProcess.run(work, List.of(), "serve", "--config", config.toString());
            assertEquals(1, run.exitCode(), run.output());
            assertTrue(run.output().contains("regmirror: cannot start: cannot listen on 127.0.0.1:" + taken.getLocalPort()
                    + " for the registry API (regmirror.server.host/port): "), run.output());
        }
    }

    @Test
    void helpListsTheServeCommand() throws Exception {
        RegmirrorProcess.Finished help = RegmirrorProcess.run(work, List.of(), "--help");
        assertEquals(0, help.exitCode(), help.output());
        assertTrue(help.output().contains("serve"), help.output());
    }
}
