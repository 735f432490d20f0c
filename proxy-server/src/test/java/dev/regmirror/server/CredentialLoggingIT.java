package dev.regmirror.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.regmirror.core.testing.TestCredentials;
import dev.regmirror.server.v2.TokenHandler;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * security.md: "Neither a password nor a token is ever logged". A client that sends its secret as
 * the whole {@code Authorization} value, without a scheme ({@code Authorization: <token>}, a common
 * mistake of scripts and CI variables), has the value taken for the scheme's name, and the
 * refusal's reason quotes it: the token endpoint logs that reason at INFO (the level regmirror runs
 * at), so the secret lands in the log in clear.
 */
class CredentialLoggingIT {

    private static final String SECRET = "ghp-4f1e9c0b7d2a-secret-never-logged";

    @TempDir
    Path work;

    private final Logger tokenLogger = (Logger) LoggerFactory.getLogger(TokenHandler.class);
    private final ListAppender<ILoggingEvent> lines = new ListAppender<>();
    private Level level;

    @BeforeEach
    void capture() {
        level = tokenLogger.getLevel();
        tokenLogger.setLevel(Level.INFO); // conf/logback.xml: INFO
        lines.start();
        tokenLogger.addAppender(lines);
    }

    @AfterEach
    void release() {
        tokenLogger.detachAppender(lines);
        tokenLogger.setLevel(level);
    }

    @Test
    void aSecretSentWithoutASchemeIsNotLogged() throws Exception {
        Path htpasswd = Files.writeString(work.resolve("htpasswd"), TestCredentials.htpasswdLine("alice", "alice-pw") + "\n");
        Map<String, Object> settings = new HashMap<>();
        settings.put("regmirror.auth.htpasswd", htpasswd.toString());
        settings.put("regmirror.auth.rules", List.of(Map.of("images", List.of("docker.io/**"), "allow", List.of("alice"))));
        try (MirrorFixture mirror = MirrorFixture.start(URI.create("http://127.0.0.1:" + closedPort()),
                work.resolve("cache"), settings)) {
            HttpResponse<byte[]> refused = mirror.get("/token?service=regmirror&scope=repository:library/app:pull",
                    "Authorization", SECRET);
            assertEquals(401, refused.statusCode());
        }
        List<String> logged = lines.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
        assertFalse(logged.isEmpty(), "the refusal is logged");
        for (String line : logged) {
            assertFalse(line.contains(SECRET), "the secret is in the log: " + line);
        }
    }

    private static int closedPort() throws Exception {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
