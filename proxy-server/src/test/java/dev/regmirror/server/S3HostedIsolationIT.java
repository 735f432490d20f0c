package dev.regmirror.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.testing.Closing;
import dev.regmirror.core.testing.RegistryProcess;
import dev.regmirror.core.testing.S3ProxyProcess;
import dev.regmirror.core.testing.TestCredentials;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * security.md: "a hosted blob or manifest is never served through a mirrored name by its digest
 * alone". On S3 storage a node learns that a digest is hosted from its own links, from the links
 * it reads, and from the other nodes' change log, every {@code changes-interval} (1 s by default,
 * up to 30 s). Until then a blob another node just pushed to a hosted repository is, to this node,
 * plain content of the bucket: a mirrored request for its digest is answered from the bucket
 * without asking the upstream (which has no such blob), so anyone who may pull a mirrored name
 * reads a team's freshly pushed layer. storage.md names this window for eviction only.
 */
class S3HostedIsolationIT {

    private static final String ALICE = "Basic " + Base64.getEncoder()
            .encodeToString("alice:alice-pw".getBytes(StandardCharsets.UTF_8));

    @TempDir
    static Path work;

    private static RegistryProcess upstream;
    private static S3ProxyProcess s3;
    private static Path htpasswd;

    @BeforeAll
    static void start() throws Exception {
        upstream = RegistryProcess.start();
        s3 = S3ProxyProcess.start();
        htpasswd = Files.writeString(work.resolve("htpasswd"), TestCredentials.htpasswdLine("alice", "alice-pw") + "\n");
    }

    @AfterAll
    static void stop() throws Exception {
        Closing.all(s3, upstream);
    }

    private static Map<String, Object> node(String bucket) {
        Map<String, Object> settings = s3.storageSettings(bucket, "mirror/");
        settings.put("regmirror.storage.s3.changes-interval", "30s");
        settings.put("regmirror.auth.htpasswd", htpasswd.toString());
        settings.put("regmirror.hosted.namespaces", List.of("lan"));
        settings.put("regmirror.auth.rules", List.of(
                Map.of("images", List.of("local/lan/secret/**"), "actions", List.of("pull", "push"), "allow", List.of("alice")),
                Map.of("images", List.of("docker.io/**"), "allow", List.of("anonymous"))));
        return settings;
    }

    @Test
    void aBlobPushedOnOneNodeIsNotReadThroughAMirroredNameOnAnother() throws Exception {
        s3.createBucket("isolation");
        try (MirrorFixture first = MirrorFixture.start(upstream.url(), work.resolve("node-1"), node("isolation"));
             MirrorFixture second = MirrorFixture.start(upstream.url(), work.resolve("node-2"), node("isolation"))) {
            byte[] layer = new byte[40_000];
            new Random(1201).nextBytes(layer);
            Digest digest = Digest.sha256Of(layer);
            HttpResponse<String> pushed = first.http().send(first.request("/v2/lan/secret/app/blobs/uploads/?digest="
                    + digest).header("Authorization", ALICE).POST(HttpRequest.BodyPublishers.ofByteArray(layer)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(201, pushed.statusCode(), pushed.body());

            assertEquals(404, first.get("/v2/library/alpine/blobs/" + digest).statusCode(),
                    "the pushing node asks the upstream, which has no such blob");
            HttpResponse<byte[]> read = second.get("/v2/library/alpine/blobs/" + digest);
            assertEquals(404, read.statusCode(), "anonymous read alice's hosted layer through library/alpine on the"
                    + " other node: " + (read.statusCode() == 200 ? Digest.sha256Of(read.body()) : ""));
            assertEquals(404, second.head("/v2/library/alpine/blobs/" + digest).statusCode());
        }
    }
}
