package dev.regmirror.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.regmirror.core.upstream.UpstreamSettings;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MirrorSettingsTest {

    @TempDir
    Path dir;

    private MirrorSettings load(String conf, Map<String, String> env) throws IOException {
        Path file = dir.resolve("application.conf");
        Files.writeString(file, conf);
        return MirrorSettings.from(ConfigLoader.load(Optional.of(file), env));
    }

    @Test
    void defaultsServeDockerHub() {
        MirrorSettings settings = MirrorSettings.from(ConfigLoader.load(Optional.empty(), Map.of()));
        assertEquals("docker.io", settings.defaultRegistry());
        assertEquals(Path.of("./data"), settings.cache().directory());
        UpstreamSettings hub = settings.upstreams().get(0);
        assertEquals(URI.create("https://registry-1.docker.io"), hub.url());
        assertEquals("library", hub.libraryPrefix());
        assertEquals(Optional.of(URI.create("https://auth.docker.io/token")), hub.tokenRealm());
        assertEquals(Duration.ofSeconds(10), hub.connectTimeout());
    }

    @Test
    void fileOverridesDefaultsAndEnvironmentOverridesFile() throws IOException {
        MirrorSettings settings = load("""
                regmirror.cache.directory = "/srv/cache"
                regmirror.upstreams.dockerhub.url = "http://127.0.0.1:5001"
                regmirror.upstream-defaults.read-timeout = 5s
                """, Map.of("REGMIRROR_UPSTREAM_DOCKERHUB_URL", "http://127.0.0.1:6001",
                "REGMIRROR_UPSTREAM_DOCKERHUB_USERNAME", "me",
                "REGMIRROR_UPSTREAM_DOCKERHUB_PASSWORD", "secret"));
        UpstreamSettings hub = settings.upstreams().get(0);
        assertEquals(Path.of("/srv/cache"), settings.cache().directory());
        assertEquals(URI.create("http://127.0.0.1:6001"), hub.url());
        assertEquals(Duration.ofSeconds(5), hub.readTimeout());
        assertEquals("me", hub.credentials().orElseThrow().username());
        assertTrue(!hub.credentials().orElseThrow().toString().contains("secret"));
    }

    @Test
    void invalidValuesNameTheSetting() {
        SettingsException badUrl = assertThrows(SettingsException.class,
                () -> load("regmirror.upstreams.dockerhub.url = \"ftp://x\"", Map.of()));
        assertTrue(badUrl.getMessage().contains("regmirror.upstreams.dockerhub.url"), badUrl.getMessage());

        SettingsException badTimeout = assertThrows(SettingsException.class,
                () -> load("regmirror.upstream-defaults.connect-timeout = banana", Map.of()));
        assertTrue(badTimeout.getMessage().contains("connect-timeout"), badTimeout.getMessage());

        SettingsException badDefault = assertThrows(SettingsException.class,
                () -> load("regmirror.default-upstream = nowhere", Map.of()));
        assertTrue(badDefault.getMessage().contains("regmirror.default-upstream"), badDefault.getMessage());

        SettingsException userInfo = assertThrows(SettingsException.class,
                () -> load("regmirror.upstreams.dockerhub.url = \"https://me:secret@registry.lan\"", Map.of()));
        assertTrue(!userInfo.getMessage().contains("secret") && userInfo.getMessage().contains("username"),
                userInfo.getMessage());

        SettingsException halfCredentials = assertThrows(SettingsException.class,
                () -> load("regmirror.upstreams.dockerhub.username = me", Map.of()));
        assertTrue(halfCredentials.getMessage().contains("username and password"), halfCredentials.getMessage());
    }

    @Test
    void aMissingConfigurationFileIsAnError() {
        SettingsException e = assertThrows(SettingsException.class,
                () -> ConfigLoader.load(Optional.of(dir.resolve("nope.conf")), Map.of()));
        assertTrue(e.getMessage().contains("nope.conf"));
    }

    @Test
    void syntaxErrorsNameTheFile() throws IOException {
        SettingsException e = assertThrows(SettingsException.class, () -> load("regmirror { cache = ", Map.of()));
        assertTrue(e.getMessage().contains("application.conf"), e.getMessage());
    }
}
