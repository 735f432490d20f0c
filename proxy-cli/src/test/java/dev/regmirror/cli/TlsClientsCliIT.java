package dev.regmirror.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.regmirror.core.testing.BuiltImage;
import dev.regmirror.core.testing.Closing;
import dev.regmirror.core.testing.RegistryProcess;
import dev.regmirror.core.testing.Skopeo;
import dev.regmirror.core.testing.TestCredentials;
import dev.regmirror.core.testing.TestImages;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole LAN set-up as a user makes it: {@code regmirror tls init} writes the CA and the
 * certificate, {@code regmirror serve} runs a TLS listener with accounts and rules, and real
 * clients pull through it with verification on, each trusting the CA its own way: skopeo and
 * podman with a certs.d directory, containerd's {@code ctr} with a {@code hosts.toml} naming the CA.
 * With another CA they refuse the mirror, which shows they really verify. podman logs in with
 * an account for a team's image; ctr passes the account with {@code --user}.
 */
class TlsClientsCliIT {

    @TempDir
    static Path work;

    private static RegistryProcess upstream;
    private static RegmirrorProcess mirror;
    private static BuiltImage app;
    private static BuiltImage secret;
    private static int tlsPort;
    private static Path caDir;
    private static Path wrongCaDir;

    @BeforeAll
    static void start() throws Exception {
        upstream = RegistryProcess.start();
        app = TestImages.singleArch(work.resolve("app"), "1.0", 2, 30_000, 91);
        secret = TestImages.singleArch(work.resolve("secret"), "1.0", 2, 30_000, 92);
        try (Skopeo skopeo = new Skopeo()) {
            skopeo.copy(app.source(), "docker://" + upstream.hostPort() + "/library/app:1.0");
            skopeo.copy(secret.source(), "docker://" + upstream.hostPort() + "/team/secret:1.0");
        }
        tlsPort = RegmirrorProcess.freePort();
        Path tls = work.resolve("tls");
        RegmirrorProcess.Finished init = RegmirrorProcess.run(work, List.of(), "tls", "init", "--host", "localhost",
                "--ip", "127.0.0.1", "--port", String.valueOf(tlsPort), "--dir", tls.toString());
        assertEquals(0, init.exitCode(), init.output());
        caDir = certsDir("ca", tls.resolve("ca.crt"));
        RegmirrorProcess.Finished other = RegmirrorProcess.run(work, List.of(), "tls", "init", "--host", "localhost",
                "--ip", "127.0.0.1", "--dir", work.resolve("other-tls").toString());
        assertEquals(0, other.exitCode(), other.output());
        wrongCaDir = certsDir("wrong-ca", work.resolve("other-tls/ca.crt"));

        Path htpasswd = Files.writeString(work.resolve("htpasswd"), TestCredentials.htpasswdLine("alice", "alice-pw") + "\n");
        int port = RegmirrorProcess.freePort();
        Path config = RegmirrorProcess.config(work, "application", port, 0, "cache", upstream.url().toString(),
                "regmirror.server.listeners.https.port = " + tlsPort,
                // The lines tls init printed, for this listener:
                "regmirror.server.listeners.https.tls.certificate = \"" + tls.resolve("server.crt") + "\"",
                "regmirror.server.listeners.https.tls.private-key = \"" + tls.resolve("server.key") + "\"",
                "regmirror.auth.htpasswd = \"" + htpasswd + "\"",
                "regmirror.auth.rules = [ { images = [\"docker.io/team/**\"], allow = [\"alice\"] },"
                        + " { images = [\"docker.io/library/*\"], allow = [\"anonymous\"] } ]");
        mirror = RegmirrorProcess.serve(work, config, port, List.of());
    }

    private static Path certsDir(String name, Path ca) throws IOException {
        Path dir = Files.createDirectories(work.resolve(name));
        Files.copy(ca, dir.resolve("ca.crt"));
        return dir;
    }

    @AfterAll
    static void stop() throws Exception {
        Closing.all(mirror, upstream);
    }

    private static String mirrorHost() {
        return "127.0.0.1:" + tlsPort;
    }

    /** How a client command ended. */
    private record Ran(int exitCode, String output) {
    }

    /** Runs a client command, returning its exit code and output; fails if it does not end in 2 minutes. */
    private static Ran exec(List<String> command) throws Exception {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        byte[] output = process.getInputStream().readAllBytes();
        if (!process.waitFor(120, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError(String.join(" ", command) + " did not end: " + new String(output, StandardCharsets.UTF_8));
        }
        return new Ran(process.exitValue(), new String(output, StandardCharsets.UTF_8));
    }

    @Test
    void skopeoVerifiesTheMirrorThroughItsCertsDirectory() throws Exception {
        try (Skopeo skopeo = new Skopeo()) {
            assertEquals(app.digest(), dev.regmirror.core.reference.Digest.sha256Of(skopeo.run(List.of("inspect",
                    "--raw", "--tls-verify=true", "--cert-dir", caDir.toString(),
                    "docker://" + mirrorHost() + "/library/app:1.0")).stdout()));
        }
        Ran refused = exec(List.of(Skopeo.BINARY, "--insecure-policy", "inspect", "--raw",
                "--tls-verify=true", "--cert-dir", wrongCaDir.toString(), "docker://" + mirrorHost() + "/library/app:1.0"));
        assertNotEquals(0, refused.exitCode());
        assertTrue(refused.output().contains("certificate signed by unknown authority"), refused.output());
    }

    private static List<String> podman(Path store, String... args) {
        List<String> command = new ArrayList<>(List.of("podman", "--root", store.resolve("root").toString(),
                "--runroot", store.resolve("run").toString(), "--storage-driver", "vfs"));
        command.addAll(List.of(args));
        return command;
    }

    @Test
    void podmanPullsWithItsCertsDirectoryAndLogsInForATeamsImage() throws Exception {
        Path store = work.resolve("podman");
        Ran pulled = exec(podman(store, "pull", "--cert-dir", caDir.toString(),
                mirrorHost() + "/library/app:1.0"));
        assertEquals(0, pulled.exitCode(), pulled.output());
        Ran digest = exec(podman(store, "image", "inspect", "--format", "{{.Digest}}",
                mirrorHost() + "/library/app:1.0"));
        assertEquals(app.digest().toString(), digest.output().strip());

        Ran wrongCa = exec(podman(work.resolve("podman-wrong"), "pull", "--cert-dir",
                wrongCaDir.toString(), mirrorHost() + "/library/app:1.0"));
        assertNotEquals(0, wrongCa.exitCode());
        assertTrue(wrongCa.output().contains("certificate signed by unknown authority"), wrongCa.output());

        Path auth = work.resolve("podman-auth.json");
        Ran badLogin = exec(podman(store, "login", "--authfile", auth.toString(), "--cert-dir",
                caDir.toString(), "-u", "alice", "-p", "wrong", mirrorHost()));
        assertNotEquals(0, badLogin.exitCode(), badLogin.output());
        Ran login = exec(podman(store, "login", "--authfile", auth.toString(), "--cert-dir",
                caDir.toString(), "-u", "alice", "-p", "alice-pw", mirrorHost()));
        assertEquals(0, login.exitCode(), login.output());
        Ran team = exec(podman(store, "pull", "--authfile", auth.toString(), "--cert-dir",
                caDir.toString(), mirrorHost() + "/team/secret:1.0"));
        assertEquals(0, team.exitCode(), team.output());
        assertEquals(secret.digest().toString(), exec(podman(store, "image", "inspect", "--format", "{{.Digest}}",
                mirrorHost() + "/team/secret:1.0")).output().strip());
    }

    @Test
    void containerdPullsWithAHostsTomlNamingTheCa() throws Exception {
        Path root = Files.createDirectories(work.resolve("containerd"));
        Path socket = root.resolve("containerd.sock");
        Path config = Files.writeString(root.resolve("config.toml"), """
                version = 2
                root = "%s"
                state = "%s"
                disabled_plugins = ["io.containerd.grpc.v1.cri"]
                [grpc]
                  address = "%s"
                """.formatted(root.resolve("root"), root.resolve("state"), socket));
        Process containerd = new ProcessBuilder("containerd", "--config", config.toString())
                .redirectErrorStream(true).redirectOutput(root.resolve("containerd.log").toFile()).start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!Files.exists(socket) && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertTrue(Files.exists(socket), Files.readString(root.resolve("containerd.log")));
            Path hosts = hostsDir("hosts", caDir.resolve("ca.crt"));
            Ran pulled = exec(List.of("ctr", "--address", socket.toString(), "images", "pull",
                    "--hosts-dir", hosts.toString(), mirrorHost() + "/library/app:1.0"));
            assertEquals(0, pulled.exitCode(), pulled.output());
            Ran listed = exec(List.of("ctr", "--address", socket.toString(), "images", "ls"));
            assertTrue(listed.output().contains(app.digest().toString()), listed.output());

            Ran wrongCa = exec(List.of("ctr", "--address", socket.toString(), "images", "pull",
                    "--hosts-dir", hostsDir("wrong-hosts", wrongCaDir.resolve("ca.crt")).toString(),
                    mirrorHost() + "/library/app:1.0"));
            assertNotEquals(0, wrongCa.exitCode());
            assertTrue(wrongCa.output().contains("certificate signed by unknown authority"), wrongCa.output());

            Ran team = exec(List.of("ctr", "--address", socket.toString(), "images", "pull",
                    "--hosts-dir", hosts.toString(), "--user", "alice:alice-pw", mirrorHost() + "/team/secret:1.0"));
            assertEquals(0, team.exitCode(), team.output());
            Ran anonymous = exec(List.of("ctr", "--address", socket.toString(), "images", "pull",
                    "--hosts-dir", hosts.toString(), mirrorHost() + "/team/secret:1.0"));
            assertNotEquals(0, anonymous.exitCode(), anonymous.output());
        } finally {
            containerd.destroy();
            containerd.waitFor(10, TimeUnit.SECONDS);
        }
    }

    /** A containerd hosts directory: {@code <host:port>/hosts.toml} naming the mirror's CA. */
    private static Path hostsDir(String name, Path ca) throws IOException {
        Path dir = Files.createDirectories(work.resolve(name).resolve(mirrorHost()));
        Files.writeString(dir.resolve("hosts.toml"), """
                server = "https://%s"
                [host."https://%s"]
                  ca = "%s"
                """.formatted(mirrorHost(), mirrorHost(), ca));
        return dir.getParent();
    }
}
