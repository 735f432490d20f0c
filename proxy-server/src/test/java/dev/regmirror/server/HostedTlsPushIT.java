package dev.regmirror.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.testing.BuiltImage;
import dev.regmirror.core.testing.Closing;
import dev.regmirror.core.testing.RegistryProcess;
import dev.regmirror.core.testing.Skopeo;
import dev.regmirror.core.testing.TestCredentials;
import dev.regmirror.core.testing.TestImages;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Pushes over TLS to a listener whose certificate a local CA signed, by clients that verify it:
 * skopeo pushes and pulls back, and the JDK client uploads a blob in chunks over HTTP/2 (each
 * request a stream whose body arrives as DATA frames) and reads it back.
 */
class HostedTlsPushIT {

    private static final String ALICE = "Basic " + Base64.getEncoder()
            .encodeToString("alice:alice-pw".getBytes(StandardCharsets.UTF_8));

    @TempDir
    static Path work;

    private static RegistryProcess upstream;
    private static Skopeo skopeo;
    private static MirrorFixture mirror;
    private static TestCertificates certificates;

    @BeforeAll
    static void start() throws Exception {
        upstream = RegistryProcess.start();
        skopeo = new Skopeo();
        certificates = new TestCertificates(work.resolve("ca"), "regmirror test CA");
        Path chain = work.resolve("server.crt");
        Path key = work.resolve("server.key");
        certificates.issue(chain, key);
        Path htpasswd = Files.writeString(work.resolve("htpasswd"),
                TestCredentials.htpasswdLine("alice", "alice-pw") + "\n");
        Map<String, Object> settings = new HashMap<>();
        settings.put("regmirror.server.listeners.https.port", 0);
        settings.put("regmirror.server.listeners.https.tls.certificate", chain.toString());
        settings.put("regmirror.server.listeners.https.tls.private-key", key.toString());
        settings.put("regmirror.auth.htpasswd", htpasswd.toString());
        settings.put("regmirror.hosted.namespaces", List.of("lan"));
        settings.put("regmirror.auth.rules", List.of(
                Map.of("images", List.of("local/lan/**"), "actions", List.of("push"), "allow", List.of("alice")),
                Map.of("images", List.of("**"), "allow", List.of("anonymous"))));
        mirror = MirrorFixture.start(upstream.url(), work.resolve("cache"), settings);
    }

    @AfterAll
    static void stop() throws Exception {
        Closing.all(mirror, skopeo, upstream);
    }

    private static String https() {
        return "127.0.0.1:" + mirror.port("https");
    }

    @Test
    void skopeoPushesOverVerifiedTlsAndPullsBack() throws Exception {
        BuiltImage image = TestImages.singleArch(work.resolve("image"), "1.0", 2, 200_000, 801);
        skopeo.copy(image.source(), "docker://" + https() + "/lan/secure:1.0", "--dest-tls-verify=true",
                "--dest-cert-dir", certificates.certDir().toString(), "--dest-creds", "alice:alice-pw");

        Path back = work.resolve("back");
        skopeo.copy("docker://" + https() + "/lan/secure:1.0", "dir:" + back, "--src-tls-verify=true",
                "--src-cert-dir", certificates.certDir().toString());
        assertEquals(image.digest(), Digest.sha256Of(Files.readAllBytes(back.resolve("manifest.json"))));
        for (var blob : image.blobs()) {
            assertEquals(blob.digest(), Digest.sha256Of(Files.readAllBytes(back.resolve(blob.digest().hex()))));
        }
    }

    @Test
    void aChunkedUploadOverHttp2() throws Exception {
        HttpClient h2 = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2)
                .sslContext(certificates.clientContext()).connectTimeout(Duration.ofSeconds(5)).build();
        byte[] blob = new byte[3 * 1024 * 1024 + 17];
        new Random(802).nextBytes(blob);
        Digest digest = Digest.sha256Of(blob);

        HttpResponse<String> started = h2.send(request("/v2/lan/h2/blobs/uploads/")
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(202, started.statusCode(), started.body());
        assertEquals(HttpClient.Version.HTTP_2, started.version());
        String location = started.headers().firstValue("Location").orElseThrow();
        int half = blob.length / 2;
        HttpResponse<String> first = h2.send(request(location).header("Content-Range", "0-" + (half - 1))
                .method("PATCH", HttpRequest.BodyPublishers.ofByteArray(blob, 0, half)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(202, first.statusCode(), first.body());
        assertEquals("0-" + (half - 1), first.headers().firstValue("Range").orElse(""));
        String next = first.headers().firstValue("Location").orElseThrow();
        String finish = next + (next.contains("?") ? "&" : "?") + "digest=" + digest;
        HttpResponse<String> created = h2.send(request(finish).header("Content-Range", half + "-" + (blob.length - 1))
                .PUT(HttpRequest.BodyPublishers.ofByteArray(blob, half, blob.length - half)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(201, created.statusCode(), created.body());
        assertEquals(digest.toString(), created.headers().firstValue("Docker-Content-Digest").orElse(""));

        HttpResponse<byte[]> back = h2.send(request("/v2/lan/h2/blobs/" + digest).GET().build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(200, back.statusCode());
        assertEquals(HttpClient.Version.HTTP_2, back.version());
        assertArrayEquals(blob, back.body());
        HttpResponse<byte[]> part = h2.send(request("/v2/lan/h2/blobs/" + digest).header("Range", "bytes=5-9").GET()
                .build(), HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(206, part.statusCode());
        assertArrayEquals(Arrays.copyOfRange(blob, 5, 10), part.body());
    }

    private static HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(URI.create("https://" + https() + path)).header("Authorization", ALICE)
                .timeout(Duration.ofSeconds(30));
    }
}
