package dev.regmirror.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.regmirror.core.testing.BuiltImage;
import dev.regmirror.core.testing.LoggedRequest;
import dev.regmirror.core.testing.RegistryProcess;
import dev.regmirror.core.testing.Skopeo;
import dev.regmirror.core.testing.TestCredentials;
import dev.regmirror.core.testing.TestImages;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A whole registry name hosted, reached the three ways {@code docs/routing.md} gives, by skopeo and
 * raw requests: the registry's name in front of the repository, a hosted {@code Host}, and
 * {@code ?ns=} (echoed as {@code OCI-Namespace}); the same repository name without any of them is
 * mirrored and goes to the upstream.
 */
class HostedRoutingIT {

    @TempDir
    Path work;

    @Test
    void aHostedRegistryIsReachedByItsNameInFrontByItsHostAndByNs() throws Exception {
        Path htpasswd = Files.writeString(work.resolve("htpasswd"), TestCredentials.htpasswdLine("alice", "alice-pw") + "\n");
        Map<String, Object> settings = new HashMap<>();
        settings.put("regmirror.auth.htpasswd", htpasswd.toString());
        settings.put("regmirror.hosted.registry", "registry.lan");
        settings.put("regmirror.hosted.hosts", List.of("localhost"));
        settings.put("regmirror.auth.rules", List.of(
                Map.of("images", List.of("registry.lan/**"), "actions", List.of("push"), "allow", List.of("alice")),
                Map.of("images", List.of("**"), "allow", List.of("anonymous"))));
        BuiltImage image = TestImages.singleArch(work.resolve("image"), "1.0", 1, 20_000, 71);
        try (RegistryProcess upstream = RegistryProcess.start(); Skopeo skopeo = new Skopeo();
             MirrorFixture mirror = MirrorFixture.start(upstream.url(), work.resolve("cache"), settings)) {
            skopeo.copy(image.source(), "docker://" + mirror.hostPort() + "/registry.lan/team/app:1.0",
                    "--dest-creds", "alice:alice-pw");

            assertEquals(image.digest(), skopeo.inspectDigest("docker://localhost:" + mirror.port() + "/team/app:1.0"),
                    "under a hosted Host every name is hosted");
            HttpResponse<byte[]> byNs = mirror.get("/v2/team/app/manifests/1.0?ns=registry.lan");
            assertEquals(200, byNs.statusCode());
            assertEquals(image.digest().toString(), byNs.headers().firstValue("Docker-Content-Digest").orElseThrow());
            assertEquals("registry.lan", byNs.headers().firstValue("OCI-Namespace").orElseThrow());
            HttpResponse<byte[]> tags = mirror.get("/v2/registry.lan/team/app/tags/list");
            assertEquals(200, tags.statusCode());
            assertEquals("{\"name\":\"registry.lan/team/app\",\"tags\":[\"1.0\"]}",
                    new String(tags.body(), StandardCharsets.UTF_8));
            assertEquals(List.of(), upstream.requests().stream().map(LoggedRequest::path)
                    .filter(path -> path.contains("team/app")).toList(), "hosted names never reach the upstream");

            HttpResponse<byte[]> mirrored = mirror.get("/v2/team/app/manifests/1.0");
            assertEquals(404, mirrored.statusCode());
            assertTrue(new String(mirrored.body(), StandardCharsets.UTF_8).contains("MANIFEST_UNKNOWN"));
            assertEquals(List.of("/v2/team/app/manifests/1.0"), upstream.requests().stream().map(LoggedRequest::path)
                    .filter(path -> path.contains("team/app")).distinct().toList(),
                    "without the registry, the Host or ?ns=, the name is docker.io's, asked upstream");
        }
    }
}
