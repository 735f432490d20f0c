package dev.regmirror.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.regmirror.core.testing.BuiltImage;
import dev.regmirror.core.testing.Closing;
import dev.regmirror.core.testing.RegistryProcess;
import dev.regmirror.core.testing.Skopeo;
import dev.regmirror.core.testing.TestCredentials;
import dev.regmirror.core.testing.TestImages;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hosted content shares the store with the cache, yet a hosted image only its team may pull is not
 * read through a mirrored name by digest, nor mounted from one: the mirror asks the upstream, which
 * does not have it, and answers as it would for any blob the cache lacked.
 */
class HostedIsolationIT {

    @TempDir
    static Path work;

    private static RegistryProcess upstream;
    private static Skopeo skopeo;
    private static MirrorFixture mirror;
    private static BuiltImage secret;

    @BeforeAll
    static void start() throws Exception {
        upstream = RegistryProcess.start();
        skopeo = new Skopeo();
        secret = TestImages.singleArch(work.resolve("secret"), "1.0", 2, 50_000, 1001);
        Path htpasswd = Files.writeString(work.resolve("htpasswd"), String.join("\n",
                TestCredentials.htpasswdLine("alice", "alice-pw"), TestCredentials.htpasswdLine("bob", "bob-pw"), ""));
        Map<String, Object> settings = new HashMap<>();
        settings.put("regmirror.auth.htpasswd", htpasswd.toString());
        settings.put("regmirror.hosted.namespaces", List.of("lan"));
        settings.put("regmirror.auth.rules", List.of(
                Map.of("images", List.of("local/lan/secret/**"), "actions", List.of("pull", "push"), "allow", List.of("alice")),
                Map.of("images", List.of("local/lan/bob/**"), "actions", List.of("pull", "push"), "allow", List.of("bob")),
                Map.of("images", List.of("docker.io/**"), "allow", List.of("anonymous"))));
        mirror = MirrorFixture.start(upstream.url(), work.resolve("cache"), settings);
        skopeo.copy(secret.source(), "docker://" + mirror.hostPort() + "/lan/secret/app:1.0", "--dest-creds",
                "alice:alice-pw");
    }

    @AfterAll
    static void stop() throws Exception {
        Closing.all(mirror, skopeo, upstream);
    }

    @Test
    void aHostedLayerIsNotReadThroughAMirroredNameByItsDigest() throws Exception {
        var layer = secret.layers().get(0).digest();
        HttpResponse<byte[]> got = mirror.get("/v2/library/alpine/blobs/" + layer);
        assertEquals(404, got.statusCode(), "the upstream has no such blob");
        assertTrue(new String(got.body(), StandardCharsets.UTF_8).contains("BLOB_UNKNOWN"));
        assertEquals(404, mirror.head("/v2/library/alpine/blobs/" + layer).statusCode());
        HttpResponse<byte[]> manifest = mirror.get("/v2/library/alpine/manifests/" + secret.digest(),
                "Accept", "application/vnd.oci.image.manifest.v1+json");
        assertEquals(404, manifest.statusCode());
        HttpResponse<byte[]> allowed = mirror.http().send(mirror.request("/v2/lan/secret/app/blobs/" + layer)
                .header("Authorization", TestCredentials.basic("alice", "alice-pw")).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(200, allowed.statusCode(), "its team reads it under its own name");
    }

    @Test
    void aHostedLayerIsNotMountedFromAMirroredName() throws Exception {
        var layer = secret.layers().get(0).digest();
        HttpResponse<String> mount = mirror.http().send(mirror.request("/v2/lan/bob/copy/blobs/uploads/?mount="
                + layer + "&from=library/alpine").header("Authorization", TestCredentials.basic("bob", "bob-pw"))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(202, mount.statusCode(), "an ordinary upload, not a mount: " + mount.body());
        HttpResponse<String> read = mirror.http().send(mirror.request("/v2/lan/bob/copy/blobs/" + layer)
                .header("Authorization", TestCredentials.basic("bob", "bob-pw")).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(404, read.statusCode());
    }

    /** Reads of a hosted repository follow the pull rules as mirrored images do: no account 401, another team 403. */
    @Test
    void aHostedImageIsReadOnlyByThoseTheRulesLetPullIt() throws Exception {
        String path = "/v2/lan/secret/app/manifests/1.0";
        HttpResponse<byte[]> anonymous = mirror.get(path);
        assertEquals(401, anonymous.statusCode());
        assertTrue(new String(anonymous.body(), StandardCharsets.UTF_8).contains("UNAUTHORIZED"));
        assertTrue(anonymous.headers().firstValue("WWW-Authenticate").isPresent());
        HttpResponse<String> bob = mirror.http().send(mirror.request(path).header("Authorization", TestCredentials.basic("bob", "bob-pw"))
                .GET().build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(403, bob.statusCode());
        assertTrue(bob.body().contains("DENIED"), bob.body());
        HttpResponse<byte[]> alice = mirror.http().send(mirror.request(path).header("Authorization", TestCredentials.basic("alice", "alice-pw"))
                .header("Accept", "application/vnd.oci.image.manifest.v1+json").GET().build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(200, alice.statusCode());
        assertEquals(secret.digest(), dev.regmirror.core.reference.Digest.sha256Of(alice.body()));
    }

}
