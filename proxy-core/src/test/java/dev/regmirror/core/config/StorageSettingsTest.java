package dev.regmirror.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code regmirror.storage}: the file system by default, S3 with what it needs, and the settings it refuses. */
class StorageSettingsTest {

    @TempDir
    Path dir;

    private MirrorSettings load(String conf, Map<String, String> environment) throws IOException {
        Path file = dir.resolve("application.conf");
        Files.writeString(file, conf);
        return MirrorSettings.from(ConfigLoader.load(Optional.of(file), environment));
    }

    /** The {@code regmirror.storage.s3} block as the loader resolves it from the file and the environment. */
    private S3Settings s3(String conf, Map<String, String> environment) throws IOException {
        Path file = dir.resolve("application.conf");
        Files.writeString(file, conf);
        return StorageParser.s3(ConfigLoader.load(Optional.of(file), environment).getConfig("regmirror.storage.s3"));
    }

    @Test
    void theFileSystemIsTheDefault() {
        MirrorSettings settings = MirrorSettings.from(ConfigLoader.load(Optional.empty(), Map.of()));
        assertEquals(StorageSettings.Type.FILESYSTEM, settings.storage().type());
        assertTrue(settings.storage().s3().isEmpty());
    }

    @Test
    void s3IsChosenWithItsBucketAndHostsRepositoriesToo() throws IOException {
        MirrorSettings settings = load("regmirror.storage { type = s3, s3.bucket = b }", Map.of());
        assertEquals(StorageSettings.Type.S3, settings.storage().type());
        assertEquals("b", settings.storage().s3().orElseThrow().bucket());
        Path htpasswd = Files.writeString(dir.resolve("htpasswd"), "");
        MirrorSettings hosting = load("regmirror.storage { type = s3, s3.bucket = b }\nregmirror.auth.htpasswd = \""
                + htpasswd + "\"\nregmirror.hosted.namespaces = [lan]", Map.of());
        assertEquals(StorageSettings.Type.S3, hosting.storage().type());
        assertTrue(hosting.hosted().enabled());
    }

    @Test
    void s3TakesItsSettingsFromTheFileAndTheEnvironment() throws IOException {
        S3Settings s3 = s3("""
                regmirror.storage {
                  type = s3
                  s3 { endpoint = "https://minio.lan:9000", bucket = "mirror", prefix = "/lan/regmirror",
                       path-style = true, part-size = 8M, redirect = true, redirect-ttl = 2m }
                }
                """, Map.of("REGMIRROR_S3_ACCESS_KEY", "AKID", "REGMIRROR_S3_SECRET_KEY", "s3cr3t-value",
                "REGMIRROR_S3_CHANGES_INTERVAL", "10s"));
        assertEquals(Optional.of(URI.create("https://minio.lan:9000")), s3.endpoint());
        assertEquals("us-east-1", s3.region());
        assertEquals("mirror", s3.bucket());
        assertEquals("lan/regmirror/", s3.prefix());
        assertTrue(s3.pathStyle());
        assertEquals(Optional.of("AKID"), s3.accessKey());
        assertEquals(8 << 20, s3.partSize());
        assertTrue(s3.redirect());
        assertEquals(Duration.ofMinutes(2), s3.redirectTtl());
        assertEquals(Duration.ofSeconds(10), s3.changesInterval());
        assertFalse(s3.toString().contains("s3cr3t-value"), s3.toString());
    }

    @Test
    void withoutKeysTheAwsDefaultChainIsUsed() throws IOException {
        S3Settings s3 = s3("regmirror.storage { type = s3, s3.bucket = b }", Map.of());
        assertTrue(s3.accessKey().isEmpty());
        assertTrue(s3.endpoint().isEmpty());
        assertEquals("", s3.prefix());
        assertEquals(Duration.ofSeconds(1), s3.changesInterval(), "the change log is exchanged every second");
    }

    @Test
    void refusesWhatCannotWork() {
        assertRefused("regmirror.storage.type = ceph", "regmirror.storage.type: \"filesystem\" or \"s3\"");
        assertRefused("regmirror.storage.type = s3", "regmirror.storage.s3.bucket: required");
        assertRefused("regmirror.storage { type = s3, s3 { bucket = b, endpoint = \"minio.lan:9000\" } }",
                "regmirror.storage.s3.endpoint");
        assertRefused("regmirror.storage { type = s3, s3 { bucket = b, endpoint = \"https://minio.lan/bucket\" } }",
                "regmirror.storage.s3.endpoint");
        assertRefused("regmirror.storage { type = s3, s3 { bucket = b, access-key = AKID } }",
                "regmirror.storage.s3.secret-key: set both");
        assertRefused("regmirror.storage { type = s3, s3 { bucket = b, part-size = 1M } }",
                "regmirror.storage.s3.part-size");
        assertRefused("regmirror.storage { type = s3, s3 { bucket = b, prefix = \"a//b\" } }",
                "regmirror.storage.s3.prefix");
        assertRefused("regmirror.storage { type = s3, s3 { bucket = b, prefix = \"../x\" } }",
                "regmirror.storage.s3.prefix");
        assertRefused("regmirror.storage { type = s3, s3 { bucket = b, redirect-ttl = 8d } }",
                "regmirror.storage.s3.redirect-ttl");
        assertRefused("regmirror.storage { type = s3, s3 { bucket = b, changes-interval = 1m } }",
                "regmirror.storage.s3.changes-interval: 100ms to 30s");
        assertRefused("regmirror.storage { type = s3, s3 { bucket = b, changes-interval = 10ms } }",
                "regmirror.storage.s3.changes-interval: 100ms to 30s");
        assertRefused("regmirror.storage { type = s3, s3 { bucket = b, ca-file = \"/nonexistent/ca.pem\" } }",
                "regmirror.storage.s3.ca-file");
    }

    private void assertRefused(String conf, String start) {
        SettingsException e = assertThrows(SettingsException.class, () -> load(conf, Map.of()));
        assertTrue(e.getMessage().startsWith(start), e.getMessage());
    }
}
