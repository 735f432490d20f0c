package dev.regmirror.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.regmirror.core.testing.Closing;
import dev.regmirror.core.testing.FreePorts;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A loopback admin API without a token (the default) answers any local client; security.md and
 * console.md promise that "a web page cannot make a browser on the mirror's machine post to a
 * loopback admin API that needs no token" and that an attacker "cannot make an administrator's
 * browser purge, prune or prefetch through a page of theirs". A page served from a name the
 * attacker re-points at 127.0.0.1 (DNS rebinding) is same-origin with the admin API as far as the
 * browser knows: its requests carry {@code Host: rebind.example:<port>}, a matching {@code Origin}
 * and {@code Sec-Fetch-Site: same-origin}. Nothing checks that the Host names this listener (a
 * loopback name or address), so such a page prunes the cache and reads every admin answer.
 * The requests below are exactly what the browser sends, over a plain socket from loopback.
 */
class AdminRebindingIT {

    @TempDir
    static Path work;

    private static MirrorFixture mirror;
    private static String rebound;

    @BeforeAll
    static void start() throws Exception {
        mirror = MirrorFixture.start(URI.create("http://127.0.0.1:" + closedPort()), work.resolve("cache"), Map.of());
        rebound = "rebind.example:" + mirror.adminPort();
    }

    @AfterAll
    static void stop() throws Exception {
        Closing.all(mirror);
    }

    @Test
    void aPageOnAReboundNameCannotPruneThroughTheLoopbackAdminApi() throws Exception {
        String answer = send("POST /admin/prune HTTP/1.1\r\nHost: " + rebound + "\r\nOrigin: http://" + rebound
                + "\r\nSec-Fetch-Site: same-origin\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        assertFalse(answer.startsWith("HTTP/1.1 200"), "a rebound page pruned the cache:\n" + answer);
        assertTrue(answer.startsWith("HTTP/1.1 403") || answer.startsWith("HTTP/1.1 401"), answer);
    }

    @Test
    void aPageOnAReboundNameCannotSignInToTheConsoleNorReadTheAdminApi() throws Exception {
        String signin = send("POST /signin HTTP/1.1\r\nHost: " + rebound + "\r\nOrigin: http://" + rebound
                + "\r\nSec-Fetch-Site: same-origin\r\nContent-Type: application/x-www-form-urlencoded"
                + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        assertFalse(signin.toLowerCase().contains("set-cookie: regmirror_session="),
                "a rebound page got a console session:\n" + signin);
        String usage = send("GET /admin/images HTTP/1.1\r\nHost: " + rebound
                + "\r\nSec-Fetch-Site: same-origin\r\nConnection: close\r\n\r\n");
        assertFalse(usage.startsWith("HTTP/1.1 200"), "a rebound page read the admin API:\n" + usage);
    }

    @Test
    void theCliAndABrowserOnTheRealAddressStillGetIn() throws Exception {
        String cli = send("POST /admin/prune?dryRun=true HTTP/1.1\r\nHost: 127.0.0.1:" + mirror.adminPort()
                + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        assertTrue(cli.startsWith("HTTP/1.1 200"), cli);
        String browser = send("GET /admin/usage HTTP/1.1\r\nHost: localhost:" + mirror.adminPort()
                + "\r\nSec-Fetch-Site: same-origin\r\nConnection: close\r\n\r\n");
        assertTrue(browser.startsWith("HTTP/1.1 200"), browser);
    }

    /** One request as written, over its own connection; the whole answer. */
    private static String send(String request) throws Exception {
        try (Socket socket = new Socket("127.0.0.1", mirror.adminPort())) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            out.write(request.getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = socket.getInputStream();
            ByteArrayOutputStream answer = new ByteArrayOutputStream();
            in.transferTo(answer);
            return answer.toString(StandardCharsets.UTF_8);
        }
    }

    /** A port nothing listens on: the upstream is never asked here. */
    private static int closedPort() throws Exception {
        return FreePorts.pick();
    }
}
