package dev.regmirror.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code regmirror.hosted}: what it turns on, and the settings it refuses. */
class HostedSettingsTest {

    @TempDir
    Path dir;

    private MirrorSettings load(String conf) throws IOException {
        Path file = dir.resolve("application.conf");
        Path htpasswd = dir.resolve("htpasswd");
        Files.writeString(htpasswd, "");
        Files.writeString(file, conf.replace("HTPASSWD", htpasswd.toString()));
        return MirrorSettings.from(ConfigLoader.load(Optional.of(file), Map.of()));
    }

    @Test
    void nothingIsHostedByDefault() {
        MirrorSettings settings = MirrorSettings.from(ConfigLoader.load(Optional.empty(), Map.of()));
        assertFalse(settings.hosted().enabled());
        assertFalse(settings.router().route("lan/app").hosted());
    }

    @Test
    void namespacesHostsAndAHostLikeNameTurnItOn() throws IOException {
        MirrorSettings settings = load("""
                regmirror.auth.htpasswd = "HTPASSWD"
                regmirror.hosted { namespaces = ["lan/", "team-a"], hosts = ["Push.Mirror.LAN"], upload-timeout = 10m }
                """);
        HostedSettings hosted = settings.hosted();
        assertTrue(hosted.enabled());
        assertEquals("local", hosted.registry());
        assertEquals(List.of("lan", "team-a"), hosted.namespaces());
        assertEquals(List.of("push.mirror.lan"), hosted.hosts());
        assertEquals(Duration.ofMinutes(10), hosted.uploadTimeout());
        assertEquals(4 << 20, hosted.maxManifestBytes());
        assertFalse(hosted.deleteEnabled());
        assertTrue(settings.router().route("team-a/web").hosted());
        assertTrue(load("""
                regmirror.auth.htpasswd = "HTPASSWD"
                regmirror.hosted.registry = "registry.lan"
                """).router().route("registry.lan/app").hosted());
    }

    @Test
    void rulesMayNameTheHostedRegistry() throws IOException {
        MirrorSettings settings = load("""
                regmirror.auth.htpasswd = "HTPASSWD"
                regmirror.hosted.namespaces = ["lan"]
                regmirror.auth.rules = [{ images = ["local/lan/**"], actions = ["pull", "push"], allow = ["alice"] }]
                """);
        assertEquals(1, settings.auth().rules().size());
    }

    @Test
    void refusesWhatCannotWork() {
        assertRefused("regmirror.hosted.namespaces = [\"lan\"]", "regmirror.hosted: pushing needs signed-in accounts");
        assertRefused("regmirror.auth.htpasswd = \"HTPASSWD\"\nregmirror.hosted { registry = \"ghcr.io\", namespaces = [\"lan\"] }",
                "regmirror.hosted.registry: \"ghcr.io\" is the upstream ghcr");
        assertRefused("regmirror.auth.htpasswd = \"HTPASSWD\"\nregmirror.hosted { namespaces = [\"Lan\"] }",
                "regmirror.hosted.namespaces: \"Lan\"");
        assertRefused("regmirror.auth.htpasswd = \"HTPASSWD\"\nregmirror.hosted { namespaces = [\"lan\"], upload-timeout = 0s }",
                "regmirror.hosted.upload-timeout");
        assertRefused("regmirror.auth.htpasswd = \"HTPASSWD\"\nregmirror.hosted { namespaces = [\"lan\"], max-manifest-size = 1G }",
                "regmirror.hosted.max-manifest-size");
    }

    private void assertRefused(String conf, String start) {
        SettingsException e = assertThrows(SettingsException.class, () -> load(conf));
        assertTrue(e.getMessage().startsWith(start), e.getMessage());
    }
}
