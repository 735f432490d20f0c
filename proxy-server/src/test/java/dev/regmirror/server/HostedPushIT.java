package dev.regmirror.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.storage.CacheLayout;
import dev.regmirror.core.testing.BuiltImage;
import dev.regmirror.core.testing.Closing;
import dev.regmirror.core.testing.ImageFormat;
import dev.regmirror.core.testing.LoggedRequest;
import dev.regmirror.core.testing.RegistryProcess;
import dev.regmirror.core.testing.Skopeo;
import dev.regmirror.core.testing.TestCredentials;
import dev.regmirror.core.testing.TestImages;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real clients push to a hosted repository and pull back what they pushed: skopeo (single and
 * multi-arch, OCI and Docker media types), the seed workflow (pull through the mirror, copy under a
 * hosted name: every layer mounted, no layer byte uploaded, as regmirror's metrics count), podman
 * pushing what it pulled, and the refusals a pusher without rights or a push to a mirrored name
 * meet. The upstream never sees a hosted name.
 */
class HostedPushIT {

    @TempDir
    static Path work;

    private static RegistryProcess upstream;
    private static Skopeo skopeo;
    private static MirrorFixture mirror;
    private static BuiltImage single;
    private static BuiltImage multi;
    private static BuiltImage base;

    @BeforeAll
    static void start() throws Exception {
        upstream = RegistryProcess.start();
        skopeo = new Skopeo();
        single = TestImages.singleArch(work.resolve("single"), "1.0", 3, 300_000, 501);
        multi = TestImages.multiArch(work.resolve("multi"), "2.0", List.of("linux/amd64", "linux/arm64/v8"), 2,
                100_000, 502, ImageFormat.DOCKER_V2S2);
        base = TestImages.singleArch(work.resolve("base"), "1.0", 2, 200_000, 503);
        skopeo.copy(base.source(), "docker://" + upstream.hostPort() + "/library/base:1.0");
        Path htpasswd = Files.writeString(work.resolve("htpasswd"), String.join("\n",
                TestCredentials.htpasswdLine("alice", "alice-pw"), TestCredentials.htpasswdLine("bob", "bob-pw"), ""));
        Map<String, Object> settings = new HashMap<>();
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

    private static String viaMirror(String image) {
        return "docker://" + mirror.hostPort() + "/" + image;
    }

    @Test
    void skopeoPushesSingleAndMultiArchImagesAndPullsThemBackByteForByte() throws Exception {
        upstream.reset();
        skopeo.copy(single.source(), viaMirror("lan/app:1.0"), "--dest-creds", "alice:alice-pw");
        skopeo.copy(multi.source(), viaMirror("lan/multi:2.0"), "--all", "--dest-creds", "alice:alice-pw");

        assertEquals(single.digest(), skopeo.inspectDigest(viaMirror("lan/app:1.0")));
        assertEquals(multi.digest(), skopeo.inspectDigest(viaMirror("lan/multi:2.0")));
        Path back = work.resolve("back");
        skopeo.copyToDir(viaMirror("lan/app:1.0"), back);
        for (var layer : single.layers()) {
            assertEquals(layer.digest(), Digest.sha256Of(Files.readAllBytes(back.resolve(layer.digest().hex()))));
        }
        Path multiBack = work.resolve("multi-back");
        skopeo.copy(viaMirror("lan/multi:2.0"), "dir:" + multiBack, "--all");
        for (var manifest : multi.manifests()) {
            assertEquals(manifest.digest(), Digest.sha256Of(Files.readAllBytes(multiBack.resolve(manifest.digest().hex()
                    + ".manifest.json"))));
        }
        assertEquals(List.of(), upstream.requests().stream().map(LoggedRequest::path)
                .filter(path -> path.contains("/lan/")).toList(), "hosted names never reach the upstream");
    }

    @Test
    void theSeedWorkflowMountsTheLayersTheCacheHoldsAndUploadsNoneOfThem() throws Exception {
        skopeo.copyToDir(viaMirror("library/base:1.0"), work.resolve("pulled"));
        mirror.awaitFillsCommitted(); // a pull's last blob is committed just after its response ends
        long uploaded = metric("regmirror_hosted_upload_bytes_total");
        long mounts = metric("regmirror_hosted_mounts_total");

        skopeo.copy(viaMirror("library/base:1.0"), viaMirror("lan/base:1.0"), "--dest-creds", "alice:alice-pw");

        assertEquals(base.digest(), skopeo.inspectDigest(viaMirror("lan/base:1.0")));
        assertEquals(mounts + base.layers().size(), metric("regmirror_hosted_mounts_total"),
                "every layer mounted from the cache: " + base.layers());
        // skopeo (containers/image) never tries to mount a config: it asks the target for it, and
        // uploads it when the target does not have it. The layers' bytes are not uploaded again.
        long config = base.manifest().config().size();
        assertEquals(uploaded + config, metric("regmirror_hosted_upload_bytes_total"),
                "only the config's " + config + " bytes uploaded, no layer byte");
    }

    @Test
    void podmanPushesWhatItPulledThroughTheMirrorAndAnotherPodmanPullsItBack() throws Exception {
        skopeo.copy(single.source(), "docker://" + upstream.hostPort() + "/library/pod:1.0");
        Path store = work.resolve("podman");
        run(podman(store, "pull", "--tls-verify=false", mirror.hostPort() + "/library/pod:1.0"));
        String id = run(podman(store, "image", "inspect", "--format", "{{.Id}}", mirror.hostPort() + "/library/pod:1.0"))
                .trim();
        run(podman(store, "tag", mirror.hostPort() + "/library/pod:1.0", mirror.hostPort() + "/lan/pod:pushed"));
        run(podman(store, "push", "--tls-verify=false", "--creds", "alice:alice-pw",
                mirror.hostPort() + "/lan/pod:pushed"));

        Path other = work.resolve("podman-other");
        run(podman(other, "pull", "--tls-verify=false", mirror.hostPort() + "/lan/pod:pushed"));
        assertEquals(id, run(podman(other, "image", "inspect", "--format", "{{.Id}}",
                mirror.hostPort() + "/lan/pod:pushed")).trim(), "the same image (config digest) came back");
    }

    @Test
    void pushesNeedAnAccountWithPushRightsAndAHostedName() {
        IllegalStateException anonymous = assertThrows(IllegalStateException.class,
                () -> skopeo.copy(single.source(), viaMirror("lan/anon:1")));
        assertTrue(anonymous.getMessage().contains("authentication required")
                || anonymous.getMessage().contains("unauthorized"), anonymous.getMessage());
        IllegalStateException bob = assertThrows(IllegalStateException.class,
                () -> skopeo.copy(single.source(), viaMirror("lan/bob:1"), "--dest-creds", "bob:bob-pw"));
        assertTrue(bob.getMessage().contains("denied"), bob.getMessage());
        IllegalStateException mirrored = assertThrows(IllegalStateException.class,
                () -> skopeo.copy(single.source(), viaMirror("library/pushed:1"), "--dest-creds", "alice:alice-pw"));
        assertTrue(mirrored.getMessage().contains("405") || mirrored.getMessage().contains("unsupported")
                || mirrored.getMessage().contains("UNSUPPORTED"), mirrored.getMessage());
    }

    /**
     * The same refusals as a client sees them on the wire, each before any byte is kept: no account
     * is 401 UNAUTHORIZED with a challenge, an account without push rights 403 DENIED, a mirrored
     * name 405 UNSUPPORTED; no blob, manifest or upload is left behind.
     */
    @Test
    void refusedPushesAnswerTheSpecsCodesAndLeaveNothing() throws Exception {
        byte[] blob = "a layer nobody may push".getBytes(StandardCharsets.UTF_8);
        Digest digest = Digest.sha256Of(blob);
        String bob = "Basic " + Base64.getEncoder().encodeToString("bob:bob-pw".getBytes(StandardCharsets.UTF_8));
        String alice = "Basic " + Base64.getEncoder().encodeToString("alice:alice-pw".getBytes(StandardCharsets.UTF_8));
        List<Path> uploadsBefore = uploads();

        HttpResponse<String> anonymous = send(mirror.request("/v2/lan/anon/blobs/uploads/?digest=" + digest)
                .POST(HttpRequest.BodyPublishers.ofByteArray(blob)));
        assertEquals(401, anonymous.statusCode(), anonymous.body());
        assertTrue(anonymous.body().contains("\"UNAUTHORIZED\""), anonymous.body());
        assertTrue(anonymous.headers().firstValue("WWW-Authenticate").isPresent());
        HttpResponse<String> denied = send(mirror.request("/v2/lan/bob/blobs/uploads/?digest=" + digest)
                .header("Authorization", bob).POST(HttpRequest.BodyPublishers.ofByteArray(blob)));
        assertEquals(403, denied.statusCode(), denied.body());
        assertTrue(denied.body().contains("\"DENIED\""), denied.body());
        HttpResponse<String> deniedManifest = send(mirror.request("/v2/lan/bob/manifests/1")
                .header("Authorization", bob).header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
                .PUT(HttpRequest.BodyPublishers.ofString("{}")));
        assertEquals(403, deniedManifest.statusCode(), deniedManifest.body());
        for (HttpRequest.Builder mirrored : List.of(
                mirror.request("/v2/library/pushed/blobs/uploads/?digest=" + digest)
                        .POST(HttpRequest.BodyPublishers.ofByteArray(blob)),
                mirror.request("/v2/library/pushed/manifests/1")
                        .header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
                        .PUT(HttpRequest.BodyPublishers.ofString("{}")))) {
            HttpResponse<String> unsupported = send(mirrored.header("Authorization", alice));
            assertEquals(405, unsupported.statusCode(), unsupported.body());
            assertTrue(unsupported.body().contains("\"UNSUPPORTED\""), unsupported.body());
        }

        for (String path : List.of("/v2/lan/anon/blobs/", "/v2/lan/bob/blobs/")) {
            assertEquals(404, mirror.get(path + digest).statusCode(), path);
        }
        assertEquals(404, mirror.get("/v2/lan/bob/manifests/1").statusCode());
        assertEquals(uploadsBefore, uploads(), "no upload was begun");
        assertFalse(Files.exists(new CacheLayout(work.resolve("cache")).blob(digest)), "no byte of the blob was stored");
    }

    private static List<Path> uploads() throws Exception {
        try (Stream<Path> uploads = Files.list(new CacheLayout(work.resolve("cache")).hostedUploads())) {
            return uploads.sorted().toList();
        }
    }

    private static HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
        return mirror.http().send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** A counter of the registry listener's {@code /metrics}, 0 when not yet counted. */
    private static long metric(String name) throws Exception {
        HttpResponse<byte[]> metrics = mirror.get("/metrics");
        assertEquals(200, metrics.statusCode());
        Matcher line = Pattern.compile("(?m)^" + name + "(\\{[^}]*\\})? ([0-9.eE+-]+)$")
                .matcher(new String(metrics.body(), StandardCharsets.UTF_8));
        long total = 0;
        while (line.find()) {
            total += (long) Double.parseDouble(line.group(2));
        }
        return total;
    }

    private static List<String> podman(Path store, String... args) {
        List<String> command = new ArrayList<>(List.of("podman", "--root", store.resolve("root").toString(),
                "--runroot", store.resolve("run").toString(), "--storage-driver", "vfs"));
        command.addAll(List.of(args));
        return command;
    }

    private static String run(List<String> command) throws Exception {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        byte[] output = process.getInputStream().readAllBytes();
        if (!process.waitFor(120, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError(String.join(" ", command) + " did not end");
        }
        String text = new String(output, StandardCharsets.UTF_8);
        assertEquals(0, process.exitValue(), String.join(" ", command) + ":\n" + text);
        return text;
    }
}
