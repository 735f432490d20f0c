package dev.regmirror.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.regmirror.core.manifest.Descriptor;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.testing.BuiltImage;
import dev.regmirror.core.testing.Closing;
import dev.regmirror.core.testing.RegistryProcess;
import dev.regmirror.core.testing.Skopeo;
import dev.regmirror.core.testing.TestCredentials;
import dev.regmirror.core.testing.TestImages;
import java.net.URI;
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
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
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
 *
 * <p>With digest links, what a repository's own pulls cached is still served from the cache without
 * the upstream, and a digest reached by digest alone costs one upstream HEAD; with the upstream
 * down, only linked content is served (the last test stops the upstream).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CachedIsolationIT {

    private static final String OCI = "application/vnd.oci.image.manifest.v1+json";

    @TempDir
    static Path work;

    private static RegistryProcess upstream;
    private static Skopeo skopeo;
    private static MirrorFixture mirror;
    private static BuiltImage secret;
    private static BuiltImage app;
    /** The same image as library/twin:1.0 and library/app:2.0 upstream; pulled through the mirror as twin only. */
    private static BuiltImage twin;
    private static final Map<String, Object> settings = new HashMap<>();

    @BeforeAll
    static void start() throws Exception {
        upstream = RegistryProcess.start();
        skopeo = new Skopeo();
        app = TestImages.singleArch(work.resolve("app"), "1.0", 1, 10_000, 1101);
        secret = TestImages.singleArch(work.resolve("secret"), "1.0", 2, 30_000, 1102);
        twin = TestImages.singleArch(work.resolve("twin"), "1.0", 1, 20_000, 1103);
        skopeo.copy(app.source(), "docker://" + upstream.hostPort() + "/library/app:1.0");
        skopeo.copy(twin.source(), "docker://" + upstream.hostPort() + "/library/twin:1.0");
        skopeo.copy(twin.source(), "docker://" + upstream.hostPort() + "/library/app:2.0");
        skopeo.copy(secret.source(), "docker://" + upstream.hostPort() + "/team/secret:1.0");
        Path htpasswd = Files.writeString(work.resolve("htpasswd"), String.join("\n",
                TestCredentials.htpasswdLine("alice", "alice-pw"), TestCredentials.htpasswdLine("bob", "bob-pw"), ""));
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
    static void stop() throws Exception {
        Closing.all(mirror, skopeo, upstream);
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
                + layer + "&from=library/app").header("Authorization", TestCredentials.basic("bob", "bob-pw"))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(202, mount.statusCode(), "bob may not pull team/secret, so no mount of its layer: "
                + mount.statusCode() + " " + mount.headers().map());
        HttpResponse<String> read = mirror.http().send(mirror.request("/v2/lan/bob/copy/blobs/" + layer)
                .header("Authorization", TestCredentials.basic("bob", "bob-pw")).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(404, read.statusCode());
    }

    @Test
    void aliceStillPullsHerTeamsImageByDigestFromTheCache() throws Exception {
        upstream.reset();
        String alice = TestCredentials.basic("alice", "alice-pw");
        HttpResponse<byte[]> manifest = mirror.get("/v2/team/secret/manifests/" + secret.digest(), "Accept", OCI,
                "Authorization", alice);
        assertEquals(200, manifest.statusCode());
        for (Descriptor blob : secret.blobs()) {
            HttpResponse<byte[]> read = mirror.get("/v2/team/secret/blobs/" + blob.digest(), "Authorization", alice);
            assertEquals(200, read.statusCode());
            assertEquals(blob.digest(), Digest.sha256Of(read.body()));
        }
        assertEquals(List.of(), upstream.requests(), "her pull by tag linked the image to team/secret");
    }

    @Test
    void aRepositorysOwnImageByTagThenByDigestAsksTheUpstreamNoMore() throws Exception {
        upstream.reset();
        assertEquals(200, mirror.get("/v2/library/app/manifests/1.0", "Accept", OCI).statusCode());
        for (Descriptor blob : app.blobs()) {
            assertEquals(200, mirror.get("/v2/library/app/blobs/" + blob.digest()).statusCode());
        }
        assertEquals(0, upstream.count("HEAD", "/v2/library/app/blobs/.*"), "the manifest linked its blobs");
        assertEquals(0, upstream.count("HEAD", "/v2/library/app/manifests/sha256:.*"));
        mirror.awaitFillsCommitted();

        upstream.reset();
        assertEquals(200, mirror.get("/v2/library/app/manifests/" + app.digest(), "Accept", OCI).statusCode());
        for (Descriptor blob : app.blobs()) {
            assertEquals(200, mirror.head("/v2/library/app/blobs/" + blob.digest()).statusCode());
            assertEquals(200, mirror.get("/v2/library/app/blobs/" + blob.digest()).statusCode());
        }
        assertEquals(List.of(), upstream.requests());
    }

    @Test
    void aDigestOfTheRepositoryReachedByDigestAloneIsConfirmedByOneHeadThenServedFromTheCache() throws Exception {
        pullThroughMirror("library/twin");
        upstream.reset();
        double found = linkChecks("found");
        Digest layer = twin.layers().get(0).digest();
        for (int i = 0; i < 2; i++) {
            HttpResponse<byte[]> read = mirror.get("/v2/library/app/blobs/" + layer);
            assertEquals(200, read.statusCode());
            assertEquals(layer, Digest.sha256Of(read.body()));
            assertEquals(200, mirror.get("/v2/library/app/manifests/" + twin.digest(), "Accept", OCI).statusCode());
        }
        assertEquals(1, upstream.count("HEAD", "/v2/library/app/blobs/" + layer), "library/app:2.0 upstream has it");
        assertEquals(1, upstream.count("HEAD", "/v2/library/app/manifests/" + twin.digest()));
        assertEquals(2, upstream.requests().size(), "the bytes came from the cache: " + upstream.requests());
        assertEquals(found + 2, linkChecks("found"));
    }

    @Test
    @Order(Integer.MAX_VALUE)
    void withTheUpstreamDownLinkedContentIsServedAndUnlinkedContentRefusedBeforeAndAfterARestart() throws Exception {
        pullThroughMirror("library/twin");
        URI gone = upstream.url();
        upstream.close();
        upstream = null;

        Digest layer = twin.layers().get(0).digest();
        assertEquals(200, mirror.get("/v2/library/twin/blobs/" + layer).statusCode());
        assertEquals(200, mirror.get("/v2/library/twin/manifests/" + twin.digest(), "Accept", OCI).statusCode());
        assertUnlinkedRefused(layer);

        // A restart forgets the links kept in memory; library/twin's tag record still says what its
        // upstream gave it, so a pull by digest (as the kubelet pulls) is served as before.
        mirror.close();
        mirror = MirrorFixture.start(gone, work.resolve("cache"), settings);
        // A layer first, as a client retrying its layers asks (or as another node of a cluster is
        // asked, which never served the manifest): its tag's manifest names it.
        HttpResponse<byte[]> first = mirror.get("/v2/library/twin/blobs/" + layer);
        assertEquals(200, first.statusCode(), new String(first.body(), StandardCharsets.UTF_8));
        assertEquals(layer, Digest.sha256Of(first.body()));
        assertEquals(200, mirror.get("/v2/library/twin/manifests/" + twin.digest(), "Accept", OCI).statusCode());
        for (Descriptor blob : twin.blobs()) {
            HttpResponse<byte[]> read = mirror.get("/v2/library/twin/blobs/" + blob.digest());
            assertEquals(200, read.statusCode(), "named by the manifest just served");
            assertEquals(blob.digest(), Digest.sha256Of(read.body()));
        }
        assertUnlinkedRefused(layer);
    }

    private static void assertUnlinkedRefused(Digest layer) throws Exception {
        HttpResponse<byte[]> blob = mirror.get("/v2/library/copy/blobs/" + layer);
        assertEquals(503, blob.statusCode(), "never served unlinked: " + new String(blob.body(), StandardCharsets.UTF_8));
        assertEquals(503, mirror.head("/v2/library/copy/blobs/" + layer).statusCode());
        assertEquals(503, mirror.get("/v2/library/copy/manifests/" + twin.digest(), "Accept", OCI).statusCode());
    }

    /** Pulls the twin image by tag through the mirror under {@code name}, as a client does. */
    private static void pullThroughMirror(String name) throws Exception {
        assertEquals(200, mirror.get("/v2/" + name + "/manifests/1.0", "Accept", OCI).statusCode());
        for (Descriptor blob : twin.blobs()) {
            assertEquals(200, mirror.get("/v2/" + name + "/blobs/" + blob.digest()).statusCode());
        }
        mirror.awaitFillsCommitted();
    }

    private static double linkChecks(String outcome) {
        var counter = mirror.meters().find("regmirror.digest.link.checks").tags("outcome", outcome).counter();
        return counter == null ? 0 : counter.count();
    }

}
