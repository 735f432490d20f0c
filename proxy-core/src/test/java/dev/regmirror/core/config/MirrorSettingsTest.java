package dev.regmirror.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.regmirror.core.upstream.Endpoint;
import dev.regmirror.core.upstream.EndpointSettings;
import dev.regmirror.core.upstream.NameRewrite;
import dev.regmirror.core.upstream.UpstreamLimits;
import dev.regmirror.core.upstream.UpstreamSettings;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
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
    void defaultsServeDockerHubAndTheBigPublicRegistries() {
        MirrorSettings settings = MirrorSettings.from(ConfigLoader.load(Optional.empty(), Map.of()));
        assertEquals("docker.io", settings.defaultRegistry());
        assertEquals(Path.of("./data"), settings.cache().directory());
        UpstreamSettings hub = settings.upstream("docker.io");
        EndpointSettings endpoint = hub.endpoints().get(0).settings();
        assertEquals(URI.create("https://registry-1.docker.io"), endpoint.url());
        assertEquals(List.of("registry-1.docker.io", "index.docker.io"), hub.aliases());
        assertEquals("library", hub.libraryPrefix());
        assertEquals(Optional.of(URI.create("https://auth.docker.io/token")), endpoint.tokenRealm());
        assertEquals(Duration.ofSeconds(10), endpoint.connectTimeout());
        assertEquals(java.util.Set.of("docker.io", "ghcr.io", "quay.io", "registry.k8s.io", "gcr.io",
                "mcr.microsoft.com", "nvcr.io", "public.ecr.aws"),
                java.util.Set.copyOf(settings.upstreams().stream().map(UpstreamSettings::registry).toList()));
        assertEquals("ghcr.io/org/tool", settings.router().route("ghcr.io/org/tool").toString());
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
        EndpointSettings hub = settings.upstream("docker.io").endpoints().get(0).settings();
        assertEquals(Path.of("/srv/cache"), settings.cache().directory());
        assertEquals(URI.create("http://127.0.0.1:6001"), hub.url());
        assertEquals(Duration.ofSeconds(5), hub.readTimeout());
        assertEquals("me", hub.credentials().orElseThrow().username());
        assertTrue(!hub.credentials().orElseThrow().toString().contains("secret"));
    }

    @Test
    void theRegistrysOwnEndpointKeepsTheUpstreamsCredentialsAndRealm() throws IOException {
        MirrorSettings settings = load("""
                regmirror.upstreams.dockerhub.endpoints = [
                  { url = "https://mirror.lan" }
                  { url = "https://registry-1.docker.io" }
                ]
                """, Map.of("REGMIRROR_UPSTREAM_DOCKERHUB_USERNAME", "me", "REGMIRROR_UPSTREAM_DOCKERHUB_PASSWORD", "pw"));
        List<Endpoint> endpoints = settings.upstream("docker.io").endpoints();
        assertTrue(endpoints.get(0).settings().credentials().isEmpty(), "a mirror never gets Docker Hub's credentials");
        assertEquals("me", endpoints.get(1).settings().credentials().orElseThrow().username());
        assertEquals(Optional.of(URI.create("https://auth.docker.io/token")), endpoints.get(1).settings().tokenRealm());
    }

    @Test
    void endpointsRewritesAndLocalAliases() throws IOException {
        MirrorSettings settings = load("""
                regmirror.upstreams.dockerhub {
                  failure-skip = 5s
                  endpoints = [
                    { url = "https://swr.cn-north-4.myhuaweicloud.com", rewrite = "ddn-k8s/docker.io/{repository}", partial = true }
                    { url = "https://registry-1.docker.io", token-realm = "https://auth.docker.io/token" }
                  ]
                }
                regmirror.upstreams.lan { registry = "registry.lan:5000", url = "http://10.0.0.5:5000", hosts = ["lan.mirror.lan"] }
                regmirror.local-aliases { "library/kafka" = "docker.io/wurstmeister/kafka" }
                """, Map.of());
        UpstreamSettings hub = settings.upstream("docker.io");
        assertEquals(2, hub.endpoints().size());
        assertEquals("ddn-k8s/docker.io/{repository}", hub.endpoints().get(0).rewrite().template());
        assertTrue(hub.endpoints().get(0).partial());
        assertEquals(NameRewrite.IDENTITY, hub.endpoints().get(1).rewrite());
        assertEquals(Duration.ofSeconds(5), hub.failureSkip());
        assertEquals(List.of("lan.mirror.lan"), settings.upstream("registry.lan:5000").hosts());
        assertEquals("docker.io/wurstmeister/kafka", settings.router().route("kafka").toString());
    }

    @Test
    void noUpstreamIsLimitedByDefault() {
        MirrorSettings settings = MirrorSettings.from(ConfigLoader.load(Optional.empty(), Map.of()));
        assertEquals(settings.upstreams().size(), settings.limits().size());
        settings.limits().values().forEach(limits -> assertFalse(limits.any(), limits.toString()));
        assertEquals(new UpstreamLimits("regmirror.upstreams.dockerhub", 0, 0, Duration.ofSeconds(60)),
                settings.limits().get("docker.io"));
    }

    @Test
    void limitsComeFromTheDefaultsAndEachUpstreamMayOverrideThem() throws IOException {
        MirrorSettings settings = load("""
                regmirror.upstream-defaults { max-connections = 8, max-requests-per-second = 0.5, read-timeout = 20s }
                regmirror.upstreams.dockerhub { max-connections = 2, max-requests-per-second = 0 }
                """, Map.of());
        assertEquals(new UpstreamLimits("regmirror.upstreams.dockerhub", 2, 0, Duration.ofSeconds(20)),
                settings.limits().get("docker.io"));
        assertEquals(new UpstreamLimits("regmirror.upstreams.ghcr", 8, 0.5, Duration.ofSeconds(20)),
                settings.limits().get("ghcr.io"));
        assertEquals("0.5", settings.limits().get("ghcr.io").perSecond());
    }

    @Test
    void invalidLimitsNameTheirKey() {
        for (String conf : List.of("regmirror.upstreams.ghcr.max-connections = -1",
                "regmirror.upstreams.ghcr.max-connections = 10001",
                "regmirror.upstreams.ghcr.max-connections = lots")) {
            SettingsException e = assertThrows(SettingsException.class, () -> load(conf, Map.of()), conf);
            assertTrue(e.getMessage().startsWith("regmirror.upstreams.ghcr"), e.getMessage());
            assertTrue(e.getMessage().contains("max-connections"), e.getMessage());
        }
        for (String conf : List.of("regmirror.upstream-defaults.max-requests-per-second = -2",
                "regmirror.upstream-defaults.max-requests-per-second = 0.001")) {
            SettingsException e = assertThrows(SettingsException.class, () -> load(conf, Map.of()), conf);
            assertTrue(e.getMessage().matches("regmirror\\.upstreams\\.[a-z-]+\\.max-requests-per-second: must be 0 "
                    + "\\(no limit\\) or 0\\.01 to 1000000, was .*"), e.getMessage());
        }
    }

    @Test
    void invalidValuesNameTheSetting() throws IOException {
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

        SettingsException badRewrite = assertThrows(SettingsException.class,
                () -> load("regmirror.upstreams.dockerhub.endpoints = [{ url = \"https://x.lan\", rewrite = \"mirror/x\" }]",
                        Map.of()));
        assertTrue(badRewrite.getMessage().contains("regmirror.upstreams.dockerhub.endpoints.0.rewrite"),
                badRewrite.getMessage());

        SettingsException clash = assertThrows(SettingsException.class,
                () -> load("regmirror.upstreams.other { registry = \"docker.io\", url = \"https://x.lan\" }", Map.of()));
        assertTrue(clash.getMessage().contains("docker.io is claimed by both"), clash.getMessage());

        SettingsException badAlias = assertThrows(SettingsException.class,
                () -> load("regmirror.local-aliases { \"x\" = \"nowhere.example/y\" }", Map.of()));
        assertTrue(badAlias.getMessage().contains("regmirror.local-aliases"), badAlias.getMessage());

        SettingsException typo = assertThrows(SettingsException.class,
                () -> load("regmirror.cache.directroy = \"/srv\"\nregmirror.upstreams.dockerhub.passwrod = x", Map.of()));
        assertTrue(typo.getMessage().contains("regmirror.cache.directroy")
                && typo.getMessage().contains("regmirror.upstreams.dockerhub.passwrod"), typo.getMessage());

        SettingsException endpointTypo = assertThrows(SettingsException.class,
                () -> load("regmirror.upstreams.dockerhub.endpoints = [{ url = \"https://x.lan\", partail = true }]",
                        Map.of()));
        assertTrue(endpointTypo.getMessage().contains("endpoints.0.partail"), endpointTypo.getMessage());

        SettingsException wrongType = assertThrows(SettingsException.class,
                () -> load("regmirror.upstreams.ghcr.read-timeout = soon", Map.of()));
        assertTrue(wrongType.getMessage().contains("regmirror.upstreams.ghcr"), wrongType.getMessage());

        SettingsException httpsProxy = assertThrows(SettingsException.class,
                () -> load("regmirror.upstreams.ghcr.proxy = \"https://proxy.lan:3128\"", Map.of()));
        assertTrue(httpsProxy.getMessage().contains("regmirror.upstreams.ghcr.proxy"), httpsProxy.getMessage());

        Path notPem = Files.writeString(dir.resolve("ca.pem"), "not a certificate");
        SettingsException badCa = assertThrows(SettingsException.class,
                () -> load("regmirror.upstreams.ghcr.ca-file = \"" + notPem + "\"", Map.of()));
        assertTrue(badCa.getMessage().contains("regmirror.upstreams.ghcr.ca-file"), badCa.getMessage());

        SettingsException sharedEndpoints = assertThrows(SettingsException.class,
                () -> load("regmirror.upstream-defaults.endpoints = [{ url = \"https://x.lan\" }]", Map.of()));
        assertTrue(sharedEndpoints.getMessage().contains("regmirror.upstream-defaults.endpoints"),
                sharedEndpoints.getMessage());

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

    @Test
    void theVerifyRateIsASizePerSecondAboveZero() throws IOException {
        assertEquals(50L << 20, MirrorSettings.from(ConfigLoader.load(Optional.empty(), Map.of())).cache()
                .verifyBytesPerSecond());
        assertEquals(200L << 20, load("regmirror.cache.verify-rate = 200M", Map.of()).cache().verifyBytesPerSecond());
        SettingsException e = assertThrows(SettingsException.class,
                () -> load("regmirror.cache.verify-rate = 0", Map.of()));
        assertEquals("regmirror.cache.verify-rate: must be a size per second above 0 (50M), was 0", e.getMessage());
    }

    /**
     * A file whose settings sit outside the regmirror block would otherwise be ignored whole, and
     * the mirror would start on its defaults: open where the file meant it locked.
     */
    @Test
    void settingsOutsideTheRegmirrorBlockStopStartUp() throws IOException {
        SettingsException e = assertThrows(SettingsException.class,
                () -> load("server { port = 5443 }\nadmin.token = s3cret\nregmirror.cache.max-size = 1G", Map.of()));
        assertEquals("configuration file " + dir.resolve("application.conf") + ": settings admin, server outside the"
                + " regmirror block; every setting goes under regmirror (admin ... is regmirror.admin ...)", e.getMessage());
        assertTrue(!e.getMessage().contains("s3cret"), "values are not repeated");
        assertEquals(1L << 30, load("regmirror.cache.max-size = 1G", Map.of()).cache().maxBytes());
    }

    @Test
    void aListenersKeysAreCheckedToo() throws IOException {
        SettingsException e = assertThrows(SettingsException.class, () -> load(
                "regmirror.server.listeners.https { port = 5443, tls { certificate = a, privat-key = b } }", Map.of()));
        assertEquals("unknown setting regmirror.server.listeners.https.tls.privat-key: check the spelling against"
                + " docs/configuration.md", e.getMessage());
        load("regmirror.server.listeners.https { host = \"10.0.0.5\", port = 5443, allow = [\"10.0.0.0/8\"],"
                + " tls { certificate = a, private-key = b } }", Map.of());
    }
}
