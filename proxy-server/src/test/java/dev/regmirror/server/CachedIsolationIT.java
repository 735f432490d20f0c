package dev.regmirror.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.testing.BuiltImage;
import dev.regmirror.core.testing.RegistryProcess;
import dev.regmirror.core.testing.Skopeo;
import dev.regmirror.core.testing.TestCredentials;
import dev.regmirror.core.testing.TestImages;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A mirrored image only its team may pull (rules: {@code docker.io/team/**} for alice) stays theirs
 * once it is in the cache: security.md promises that a caller "cannot pull an image the rules do not
 * give them" and that "a token for one repository never reads another". Yet the cache is shared by
 * digest, and a cached blob or manifest is served under any name the caller may pull, without
 * asking that name's upstream (which has no such blob there and answers 404): an anonymous caller
 * reads alice's team layers through {@code library/app}, and bob, who may push {@code lan/bob/**},
 * mounts them into his repository "from" {@code library/app} and reads them there. Hosted content
 * is guarded against exactly this ({@code HostedDigests}, HostedIsolationIT); cached content of a
 * restricted repository is not.
 */
class CachedIsolationIT {

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
        BuiltImage app = TestImages.singleArch(work.resolve("app"), "1.0", 1, 10_000, 1101);
        secret = TestImages.singleArch(work.resolve("secret"), "1.0", 2, 30_000, 1102);
        skopeo.copy(app.source(), "docker://" + upstream.hostPort() + "/library/app:1.0");
        skopeo.copy(secret.source(), "docker://" + upstream.hostPort() + "/team/secret:1.0");
        Path htpasswd = Files.writeString(work.resolve("htpasswd"), String.join("\n",
                TestCredentials.htpasswdLine("alice", "alice-pw"), TestCredentials.htpasswdLine("bob", "bob-pw"), ""));
        Map<String, Object> settings = new HashMap<>();
        settings.put("regmirror.auth.htpasswd", htpasswd.toString());
        settings.put("regmirror.hosted.namespaces", List.of("lan"));
        settings.put("regmirror.auth.rules", List.of(
                Map.of("images", List.of("docker.io/team/**"), "allow", List.of("alice")),
                Map.of("images", List.of("local/lan/bob/**"), "actions", List.of("pull", "push"), "allow", List.of("bob")),
                Map.of("images", List.of("docker.io/library/*"), "allow", List.of("anonymous"))));
        mirror = MirrorFixture.start(upstream.url(), work.resolve("cache"), settings);
        // alice pulls her team's image through the mirror: its manifest and layers are now cached.
        skopeo.copy("docker://" + mirror.hostPort() + "/team/secret:1.0", "dir:" + work.resolve("alice-pull"),
                "--src-creds", "alice:alice-pw");
        mirror.awaitFillsCommitted();
    }

    @AfterAll
    static void stop() {
        if (mirror != null) {
            mirror.close();
        }
        if (skopeo != null) {
            skopeo.close();
        }
        if (upstream != null) {
            upstream.close();
        }
    }

    @Test
    void aCachedLayerOfARestrictedRepositoryIsNotReadThroughAnotherNameByItsDigest() throws Exception {
        Digest layer = secret.layers().get(0).digest();
        assertEquals(401, mirror.get("/v2/team/secret/blobs/" + layer).statusCode(), "anonymous may not pull team/secret");
        HttpResponse<String> atUpstream = mirror.http().send(HttpRequest.newBuilder(
                upstream.url().resolve("/v2/library/app/blobs/" + layer)).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(404, atUpstream.statusCode(), "the upstream has no such blob in library/app");

        HttpResponse<byte[]> blob = mirror.get("/v2/library/app/blobs/" + layer);
        assertNotEquals(200, blob.statusCode(), "anonymous read alice's team layer through library/app: "
                + (blob.statusCode() == 200 ? Digest.sha256Of(blob.body()) : ""));
        assertNotEquals(200, mirror.head("/v2/library/app/blobs/" + layer).statusCode());
        HttpResponse<byte[]> manifest = mirror.get("/v2/library/app/manifests/" + secret.digest(),
                "Accept", "application/vnd.oci.image.manifest.v1+json");
        assertNotEquals(200, manifest.statusCode(), "anonymous read alice's team manifest through library/app");
    }

    @Test
    void aCachedLayerOfARestrictedRepositoryIsNotMountedFromAnotherName() throws Exception {
        Digest layer = secret.layers().get(1).digest();
        HttpResponse<String> mount = mirror.http().send(mirror.request("/v2/lan/bob/copy/blobs/uploads/?mount="
                + layer + "&from=library/app").header("Authorization", basic("bob", "bob-pw"))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(202, mount.statusCode(), "bob may not pull team/secret, so no mount of its layer: "
                + mount.statusCode() + " " + mount.headers().map());
        HttpResponse<String> read = mirror.http().send(mirror.request("/v2/lan/bob/copy/blobs/" + layer)
                .header("Authorization", basic("bob", "bob-pw")).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(404, read.statusCode());
    }

    private static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }
}
