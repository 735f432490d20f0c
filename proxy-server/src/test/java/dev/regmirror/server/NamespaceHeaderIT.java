package dev.regmirror.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.regmirror.core.manifest.MediaTypes;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.testing.BuiltImage;
import dev.regmirror.core.testing.RegistryProcess;
import dev.regmirror.core.testing.Skopeo;
import dev.regmirror.core.testing.TestImages;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * containerd's {@code ?ns=} is echoed as {@code OCI-Namespace} on every answer of the registry API it
 * routed, errors included; a request without it, or with one naming no registry served here, gets none.
 */
class NamespaceHeaderIT {

    @TempDir
    Path work;

    @Test
    void answersRoutedByNsEchoItAsOciNamespace() throws Exception {
        BuiltImage image = TestImages.singleArch(work.resolve("img"), "1", 1, 5_000, 51);
        RegistryProcess upstream = RegistryProcess.start();
        try (Skopeo skopeo = new Skopeo();
             MirrorFixture mirror = MirrorFixture.start(upstream.url(), work.resolve("cache"), Map.of())) {
            skopeo.copy(image.source(), "docker://" + upstream.hostPort() + "/library/app:1");

            HttpResponse<byte[]> manifest = mirror.get("/v2/library/app/manifests/1?ns=docker.io", "Accept",
                    MediaTypes.OCI_MANIFEST);
            assertEquals(200, manifest.statusCode());
            assertEquals(image.digest(), Digest.sha256Of(manifest.body()));
            assertEquals("docker.io", manifest.headers().firstValue("OCI-Namespace").orElse(""));

            HttpResponse<Void> head = mirror.head("/v2/library/app/manifests/1?ns=docker.io", "Accept",
                    MediaTypes.OCI_MANIFEST);
            assertEquals("docker.io", head.headers().firstValue("OCI-Namespace").orElse(""));

            HttpResponse<byte[]> blob = mirror.get("/v2/library/app/blobs/" + image.manifest().config().digest()
                    + "?ns=docker.io");
            assertEquals(200, blob.statusCode());
            assertEquals("docker.io", blob.headers().firstValue("OCI-Namespace").orElse(""));

            HttpResponse<byte[]> base = mirror.get("/v2/?ns=docker.io");
            assertEquals("docker.io", base.headers().firstValue("OCI-Namespace").orElse(""));

            HttpResponse<byte[]> missing = mirror.get("/v2/library/app/manifests/nope?ns=docker.io", "Accept",
                    MediaTypes.OCI_MANIFEST);
            assertEquals(404, missing.statusCode());
            assertEquals("docker.io", missing.headers().firstValue("OCI-Namespace").orElse(""), "errors echo it too");

            HttpResponse<byte[]> plain = mirror.get("/v2/library/app/manifests/1", "Accept", MediaTypes.OCI_MANIFEST);
            assertEquals(200, plain.statusCode());
            assertFalse(plain.headers().firstValue("OCI-Namespace").isPresent(), "no ?ns=, no echo");

            HttpResponse<byte[]> unknown = mirror.get("/v2/library/app/manifests/1?ns=registry.example", "Accept",
                    MediaTypes.OCI_MANIFEST);
            assertEquals(404, unknown.statusCode());
            assertTrue(new String(unknown.body(), StandardCharsets.UTF_8).contains("NAME_UNKNOWN"));
            assertFalse(unknown.headers().firstValue("OCI-Namespace").isPresent(), "a registry not served is not echoed");
        } finally {
            upstream.close();
        }
    }

    @Test
    void pipelinedRequestsEachGetTheirOwnNamespace() throws Exception {
        RegistryProcess upstream = RegistryProcess.start();
        try (MirrorFixture mirror = MirrorFixture.start(upstream.url(), work.resolve("cache"), Map.of());
             Socket socket = new Socket("127.0.0.1", mirror.port())) {
            OutputStream out = socket.getOutputStream();
            out.write(("GET /v2/?ns=docker.io HTTP/1.1\r\nHost: x\r\n\r\n"
                    + "GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n"
                    + "GET /v2/?ns=docker.io HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            List<List<String>> responses = new ArrayList<>();
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII));
            List<String> current = null;
            int contentLength = 0;
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                if (line.startsWith("HTTP/1.1 ")) {
                    current = new ArrayList<>();
                    responses.add(current);
                } else if (line.isEmpty()) {
                    in.skip(contentLength);
                    contentLength = 0;
                    continue;
                }
                if (line.toLowerCase().startsWith("content-length:")) {
                    contentLength = Integer.parseInt(line.substring(15).trim());
                }
                current.add(line.toLowerCase());
            }
            assertEquals(3, responses.size(), responses.toString());
            assertTrue(responses.get(0).contains("oci-namespace: docker.io"), responses.toString());
            assertFalse(responses.get(1).stream().anyMatch(h -> h.startsWith("oci-namespace")), responses.toString());
            assertTrue(responses.get(2).contains("oci-namespace: docker.io"), responses.toString());
        } finally {
            upstream.close();
        }
    }
}
