package dev.regmirror.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.regmirror.core.testing.Closing;
import dev.regmirror.core.testing.TestCredentials;
import dev.regmirror.server.console.ConsoleSessions;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The web console's defences, over plain HTTP as an attacker would send it: nothing but the
 * sign-in page and the style sheet and script answers without a session; a wrong token or password
 * gets no session; the session cookie is HttpOnly and SameSite=Strict, and Secure under TLS; a
 * state-changing request with the cookie but without the session's CSRF token, with a wrong one,
 * or sent from another origin is refused and changes nothing (also on a loopback admin API without
 * a token); and no answer of the console or of the API it calls carries the admin token, an
 * upstream's password or an account's password or hash.
 */
class ConsoleSecurityIT {

    private static final String TOKEN = "security-test-token-9c2f";
    private static final String UPSTREAM_PASSWORD = "upstream-pw-3b1d";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @TempDir
    static Path work;

    private static MirrorFixture mirror;
    private static String base;
    private static String htpasswd;

    @BeforeAll
    static void start() throws Exception {
        htpasswd = String.join("\n", TestCredentials.htpasswdLine("root", "root-pw"),
                TestCredentials.htpasswdLine("alice", "alice-pw"), "");
        Path file = Files.writeString(work.resolve("htpasswd"), htpasswd);
        Map<String, Object> settings = new HashMap<>();
        settings.put("regmirror.admin.token", TOKEN);
        settings.put("regmirror.auth.htpasswd", file.toString());
        settings.put("regmirror.auth.admins", List.of("root"));
        settings.put("regmirror.upstreams.private.registry", "private.example");
        settings.put("regmirror.upstreams.private.url", "http://127.0.0.1:" + closedPort());
        settings.put("regmirror.upstreams.private.username", "robot");
        settings.put("regmirror.upstreams.private.password", UPSTREAM_PASSWORD);
        mirror = MirrorFixture.start(URI.create("http://127.0.0.1:" + closedPort()), work.resolve("cache"), settings);
        base = "http://127.0.0.1:" + mirror.adminPort();
    }

    @AfterAll
    static void stop() throws Exception {
        Closing.all(mirror);
    }

    @Test
    void withoutASessionOnlyTheSigninPageAndItsFilesAnswer() throws Exception {
        HttpResponse<String> console = send("GET", "/", null);
        assertEquals(303, console.statusCode());
        assertEquals("/signin", console.headers().firstValue("Location").orElseThrow());
        assertEquals("", console.body());
        for (String path : List.of("/console/session", "/admin/usage", "/admin/images", "/admin/tags",
                "/admin/image?repository=docker.io/library/app&digest=sha256:" + "0".repeat(64), "/admin/upstreams",
                "/admin/history", "/admin/jobs")) {
            HttpResponse<String> answer = send("GET", path, null);
            assertEquals(401, answer.statusCode(), path + ": " + answer.body());
        }
        assertEquals(401, send("POST", "/signout", null).statusCode());
        assertEquals(401, send("DELETE", "/admin/cache?all=true", null).statusCode());
        assertEquals(401, send("POST", "/admin/prefetch", null, "{\"image\":\"alpine\"}").statusCode());
        HttpResponse<String> signin = send("GET", "/signin", null);
        assertEquals(200, signin.statusCode());
        assertTrue(signin.headers().firstValue("Content-Security-Policy").orElseThrow().contains("script-src 'self'"));
        assertEquals("DENY", signin.headers().firstValue("X-Frame-Options").orElseThrow());
        assertEquals(200, send("GET", "/console/console.js", null).statusCode());
        assertEquals(404, send("GET", "/console/index.html", null).statusCode(), "the console page only at / with a session");
    }

    @Test
    void wrongCredentialsGetNoSessionAndRightOnesGetAStrictHttpOnlyCookie() throws Exception {
        for (String form : List.of("token=wrong", "user=root&password=wrong", "user=alice&password=alice-pw", "")) {
            HttpResponse<String> refused = signIn(form, null);
            assertTrue(refused.statusCode() == 401 || refused.statusCode() == 403, form + ": " + refused.statusCode());
            assertTrue(refused.headers().firstValue("Set-Cookie").isEmpty(), form);
            assertTrue(refused.body().contains("class=\"error\""), refused.body());
        }
        assertTrue(signIn("user=alice&password=alice-pw", null).body().contains("account alice is not an administrator"));
        for (String form : List.of("token=" + TOKEN, "user=root&password=root-pw")) {
            HttpResponse<String> signedIn = signIn(form, null);
            assertEquals(303, signedIn.statusCode(), form);
            assertEquals("/", signedIn.headers().firstValue("Location").orElseThrow());
            String cookie = signedIn.headers().firstValue("Set-Cookie").orElseThrow();
            assertTrue(cookie.startsWith(ConsoleSessions.COOKIE + "="), cookie);
            assertTrue(cookie.contains("; HttpOnly") && cookie.contains("; SameSite=Strict"), cookie);
            assertFalse(cookie.contains("Secure"), "plain HTTP: " + cookie);
        }
        String cookie = session();
        JsonNode who = JSON.readTree(send("GET", "/console/session", cookie).body());
        assertEquals("admin token", who.get("user").asText());
        assertEquals(200, send("GET", "/", cookie).statusCode());
    }

    @Test
    void stateChangingRequestsNeedTheSessionsCsrfTokenAndTheSameOrigin() throws Exception {
        String cookie = session();
        String csrf = JSON.readTree(send("GET", "/console/session", cookie).body()).get("csrf").asText();
        String prefetch = "{\"image\":\"alpine:3.19\"}";
        for (String[] headers : List.<String[]>of(new String[0],
                new String[] {ConsoleSessions.CSRF_HEADER, "not-the-token"},
                new String[] {ConsoleSessions.CSRF_HEADER, csrf, "Origin", "http://evil.example"},
                new String[] {ConsoleSessions.CSRF_HEADER, csrf, "Sec-Fetch-Site", "cross-site"})) {
            HttpResponse<String> refused = send("POST", "/admin/prefetch", cookie, prefetch, headers);
            assertEquals(403, refused.statusCode(), String.join(" ", headers) + ": " + refused.body());
            assertEquals("DENIED", JSON.readTree(refused.body()).get("errors").get(0).get("code").asText());
            assertEquals(403, send("DELETE", "/admin/cache?all=true", cookie, null, headers).statusCode());
            assertEquals(403, send("POST", "/signout", cookie, null, headers).statusCode());
        }
        assertEquals(0, JSON.readTree(send("GET", "/admin/jobs", cookie).body()).get("jobs").size(), "nothing was queued");
        HttpResponse<String> accepted = send("POST", "/admin/prefetch", cookie, prefetch, ConsoleSessions.CSRF_HEADER, csrf,
                "Origin", base, "Sec-Fetch-Site", "same-origin");
        assertEquals(202, accepted.statusCode(), accepted.body());
        assertEquals(204, send("POST", "/signout", cookie, null, ConsoleSessions.CSRF_HEADER, csrf).statusCode());
        assertEquals(401, send("GET", "/admin/jobs", cookie).statusCode(), "signed out");
        assertEquals(403, signIn("token=" + TOKEN, "http://evil.example").statusCode(), "no sign-in from another site");
    }

    @Test
    void aLoopbackAdminApiWithoutATokenStillRefusesCrossSitePosts() throws Exception {
        try (MirrorFixture open = MirrorFixture.start(URI.create("http://127.0.0.1:" + closedPort()),
                work.resolve("cache-open"), Map.of())) {
            URI prune = URI.create("http://127.0.0.1:" + open.adminPort() + "/admin/prune");
            HttpResponse<String> refused = HTTP.send(HttpRequest.newBuilder(prune).POST(HttpRequest.BodyPublishers.noBody())
                    .header("Origin", "http://evil.example").header("Content-Type", "application/x-www-form-urlencoded")
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(403, refused.statusCode(), refused.body());
            HttpResponse<String> cli = HTTP.send(HttpRequest.newBuilder(URI.create(prune + "?dryRun=true"))
                    .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, cli.statusCode(), "the CLI sends no Origin: " + cli.body());
        }
    }

    @Test
    void noAnswerCarriesASecret() throws Exception {
        String cookie = session();
        List<String> answers = new ArrayList<>();
        for (String path : List.of("/", "/signin", "/console/console.js", "/console/console.css", "/console/session",
                "/admin/usage", "/admin/images", "/admin/tags", "/admin/upstreams", "/admin/history", "/admin/jobs")) {
            HttpResponse<String> answer = send("GET", path, cookie);
            assertEquals(200, answer.statusCode(), path);
            answers.add(answer.headers().map() + answer.body());
        }
        answers.add(signIn("token=wrong", null).body());
        assertTrue(answers.stream().anyMatch(answer -> answer.contains("private.example")), "the upstream is listed");
        for (String answer : answers) {
            for (String secret : List.of(TOKEN, UPSTREAM_PASSWORD, "root-pw", "alice-pw", "$2")) {
                assertFalse(answer.contains(secret), secret + " in " + answer);
            }
        }
        assertFalse(htpasswd.isEmpty());
    }

    @Test
    void underTlsTheCookieIsSecure() throws Exception {
        TestCertificates certificates = new TestCertificates(work.resolve("ca"), "console test CA");
        Path chain = work.resolve("server.crt");
        Path key = work.resolve("server.key");
        certificates.issue(chain, key);
        try (MirrorFixture tls = MirrorFixture.start(URI.create("http://127.0.0.1:" + closedPort()),
                work.resolve("cache-tls"), Map.of("regmirror.admin.token", TOKEN,
                        "regmirror.admin.tls.certificate", chain.toString(),
                        "regmirror.admin.tls.private-key", key.toString()))) {
            HttpClient client = HttpClient.newBuilder().sslContext(certificates.clientContext())
                    .connectTimeout(Duration.ofSeconds(5)).build();
            HttpResponse<String> signedIn = client.send(HttpRequest.newBuilder(
                    URI.create("https://127.0.0.1:" + tls.adminPort() + "/signin"))
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .POST(HttpRequest.BodyPublishers.ofString("token=" + URLEncoder.encode(TOKEN, StandardCharsets.UTF_8)))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(303, signedIn.statusCode(), signedIn.body());
            String cookie = signedIn.headers().firstValue("Set-Cookie").orElseThrow();
            assertTrue(cookie.endsWith("; Secure") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
                    cookie);
        }
    }

    /** A signed-in session's {@code Cookie} header. */
    private static String session() throws Exception {
        HttpResponse<String> signedIn = signIn("token=" + TOKEN, null);
        return signedIn.headers().firstValue("Set-Cookie").orElseThrow().split(";", 2)[0];
    }

    private static HttpResponse<String> signIn(String form, String origin) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + "/signin"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form));
        if (origin != null) {
            request.header("Origin", origin);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> send(String method, String path, String cookie, String body, String... headers)
            throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + path)).method(method,
                body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (cookie != null) {
            request.header("Cookie", cookie);
        }
        if (headers.length > 0) {
            request.headers(headers);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> send(String method, String path, String cookie) throws Exception {
        return send(method, path, cookie, null);
    }

    private static int closedPort() throws Exception {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
