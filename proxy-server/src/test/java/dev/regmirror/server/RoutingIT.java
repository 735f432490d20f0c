package dev.regmirror.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.regmirror.core.manifest.MediaTypes;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.testing.BuiltImage;
import dev.regmirror.core.testing.RegistryProcess;
import dev.regmirror.core.testing.Skopeo;
import dev.regmirror.core.testing.TestImages;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One mirror for several registries, end to end: real docker-registry upstreams standing for
 * docker.io and ghcr.io, and a third laid out as a sync station ({@code ddn-k8s/docker.io/...}),
 * each request form pulled with skopeo (or, where skopeo cannot express it, a plain HTTP client)
 * and every digest compared.
 */
class RoutingIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String ACCEPT_ALL = MediaTypes.ACCEPT_ALL_HEADER;

    @TempDir
    static Path work;

    private static RegistryProcess hub;
    private static RegistryProcess ghcr;
    private static RegistryProcess station;
    private static Skopeo skopeo;
    private static MirrorFixture mirror;
    private static BuiltImage app;
    private static BuiltImage tool;
    private static BuiltImage onlyOnStation;

    @BeforeAll
    static void start() throws Exception {
        hub = RegistryProcess.start();
        ghcr = RegistryProcess.start();
        station = RegistryProcess.start();
        skopeo = new Skopeo();
        app = TestImages.singleArch(work.resolve("app"), "1", 2, 50_000, 21);
        tool = TestImages.singleArch(work.resolve("tool"), "1", 2, 50_000, 22);
        onlyOnStation = TestImages.singleArch(work.resolve("kafka"), "latest", 1, 40_000, 23);
        skopeo.copy(app.source(), "docker://" + hub.hostPort() + "/library/app:1");
        skopeo.copy(app.source(), "docker://" + ghcr.hostPort() + "/acme/app-copy:1");
        for (String tag : List.of("1", "2", "3")) {
            skopeo.copy(tool.source(), "docker://" + ghcr.hostPort() + "/org/tool:" + tag);
        }
        skopeo.copy(onlyOnStation.source(), "docker://" + station.hostPort() + "/ddn-k8s/docker.io/wurstmeister/kafka:latest");

        List<Map<String, Object>> hubEndpoints = new ArrayList<>();
        hubEndpoints.add(Map.of("url", station.url().toString(), "rewrite", "ddn-k8s/docker.io/{repository}", "partial", true));
        hubEndpoints.add(Map.of("url", hub.url().toString()));
        mirror = MirrorFixture.start(hub.url(), work.resolve("cache"), Map.of(
                // Every request asks its upstream, so each test sees where requests go, whatever ran before.
                "regmirror.upstream-defaults.tag-ttl", "0s",
                "regmirror.upstreams.dockerhub.endpoints", hubEndpoints,
                "regmirror.upstreams.ghcr.url", ghcr.url().toString(),
                "regmirror.upstreams.ghcr.hosts", List.of("localhost")));
    }

    @AfterAll
    static void stop() {
        for (AutoCloseable closeable : new AutoCloseable[] {mirror, skopeo, hub, ghcr, station}) {
            try {
                if (closeable != null) {
                    closeable.close();
                }
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }
    }

    @BeforeEach
    void forget() {
        hub.reset();
        ghcr.reset();
        station.reset();
    }

    private static String via(String hostPort, String nameAndTag) {
        return "docker://" + hostPort + "/" + nameAndTag;
    }

    @Test
    void unprefixedNamesGoToTheDefaultUpstream() {
        assertEquals(app.digest(), skopeo.inspectDigest(via(mirror.hostPort(), "app:1")));
        assertEquals(0, ghcr.requests().size());
    }

    @Test
    void aRegistryPrefixRoutesToThatRegistry() throws Exception {
        assertEquals(tool.digest(), skopeo.inspectDigest(via(mirror.hostPort(), "ghcr.io/org/tool:1")));
        assertEquals(app.digest(), skopeo.inspectDigest(via(mirror.hostPort(), "docker.io/app:1")));
        Path pulled = work.resolve("pull-tool");
        skopeo.copyToDir(via(mirror.hostPort(), "ghcr.io/org/tool:1"), pulled);
        assertEquals(tool.digest(), Digest.sha256Of(Files.readAllBytes(pulled.resolve("manifest.json"))));
        assertTrue(ghcr.blobGets().size() > 0, "the blobs came from the ghcr.io upstream");
        assertEquals(0, hub.blobGets().size());
    }

    @Test
    void aConfiguredHostNameRoutesUnprefixedNames() {
        String byHost = "localhost:" + mirror.port();
        assertEquals(tool.digest(), skopeo.inspectDigest(via(byHost, "org/tool:2")));
        assertTrue(ghcr.count("HEAD", "/v2/org/tool/manifests/2") + ghcr.count("GET", "/v2/org/tool/manifests/.+") > 0);
    }

    @Test
    void containerdNamespaceQueryAndRegistryPathBothRoute() throws Exception {
        HttpResponse<byte[]> byQuery = mirror.get("/v2/org/tool/manifests/1?ns=ghcr.io", "Accept", ACCEPT_ALL);
        assertEquals(200, byQuery.statusCode());
        assertEquals(tool.digest(), Digest.sha256Of(byQuery.body()));
        HttpResponse<byte[]> byPath = mirror.get("/ghcr.io/v2/org/tool/manifests/1", "Accept", ACCEPT_ALL);
        assertEquals(200, byPath.statusCode());
        assertEquals(tool.digest(), Digest.sha256Of(byPath.body()));
        HttpResponse<byte[]> hubByQuery = mirror.get("/v2/library/app/manifests/1?ns=docker.io", "Accept", ACCEPT_ALL);
        assertEquals(app.digest(), Digest.sha256Of(hubByQuery.body()));
        // containerd with override_path = true and a host URL ending in /v2/ghcr.io sends both.
        HttpResponse<byte[]> overridePath = mirror.get("/v2/ghcr.io/org/tool/manifests/1?ns=ghcr.io", "Accept", ACCEPT_ALL);
        assertEquals(200, overridePath.statusCode());
        assertEquals(tool.digest(), Digest.sha256Of(overridePath.body()));
    }

    @Test
    void aNameThatMatchesNoRuleIsNameUnknownAndContactsNobody() throws Exception {
        HttpResponse<byte[]> response = mirror.get("/v2/evil.example.com/x/manifests/1");
        assertEquals(404, response.statusCode());
        JsonNode error = JSON.readTree(response.body()).get("errors").get(0);
        assertEquals("NAME_UNKNOWN", error.get("code").asText());
        assertTrue(error.get("message").asText().contains("ghcr.io"), error.toString());
        assertEquals(0, hub.requests().size() + ghcr.requests().size() + station.requests().size());
    }

    @Test
    void aSyncStationServesWhatItHasUnderItsOwnLayout() throws Exception {
        assertEquals(onlyOnStation.digest(), skopeo.inspectDigest(via(mirror.hostPort(), "wurstmeister/kafka:latest")));
        assertTrue(station.count("HEAD", "/v2/ddn-k8s/docker.io/wurstmeister/kafka/manifests/latest") > 0,
                station.requests().toString());
        assertEquals(0, hub.requests().size(), "the real registry was not needed");
    }

    @Test
    void aPartialMirrorsNotFoundFallsThroughToTheNextEndpoint() throws Exception {
        Path pulled = work.resolve("pull-app-fallthrough");
        skopeo.copyToDir(via(mirror.hostPort(), "library/app:1"), pulled);
        assertEquals(app.digest(), Digest.sha256Of(Files.readAllBytes(pulled.resolve("manifest.json"))));
        assertTrue(station.count("HEAD", "/v2/ddn-k8s/docker.io/library/app/manifests/1") > 0, station.requests().toString());
        assertTrue(hub.count("HEAD", "/v2/library/app/manifests/1") > 0, hub.requests().toString());
    }

    @Test
    void contentIsSharedAcrossRoutes() throws Exception {
        skopeo.copyToDir(via(mirror.hostPort(), "app:1"), work.resolve("pull-app-hub"));
        ghcr.reset();
        Path copy = work.resolve("pull-app-ghcr");
        skopeo.copyToDir(via(mirror.hostPort(), "ghcr.io/acme/app-copy:1"), copy);
        assertEquals(app.digest(), Digest.sha256Of(Files.readAllBytes(copy.resolve("manifest.json"))));
        assertEquals(0, ghcr.blobGets().size(), "blobs cached through docker.io serve ghcr.io too: " + ghcr.requests());
    }

    @Test
    void tagListsAreProxiedAndPagedInTheClientsNaming() throws Exception {
        HttpResponse<byte[]> all = mirror.get("/v2/ghcr.io/org/tool/tags/list");
        assertEquals(200, all.statusCode());
        JsonNode body = JSON.readTree(all.body());
        assertEquals("ghcr.io/org/tool", body.get("name").asText());
        assertEquals(java.util.Set.of("1", "2", "3"), java.util.Set.copyOf(tags(body)));

        List<String> paged = new ArrayList<>();
        String next = "/v2/ghcr.io/org/tool/tags/list?n=2";
        for (int page = 0; next != null && page < 5; page++) {
            HttpResponse<byte[]> response = mirror.get(next);
            List<String> tags = tags(JSON.readTree(response.body()));
            assertTrue(tags.size() <= 2, tags.toString());
            paged.addAll(tags);
            String link = response.headers().firstValue("Link").orElse(null);
            if (link != null) {
                assertTrue(link.matches("</v2/ghcr\\.io/org/tool/tags/list\\?n=2&last=[^>]+>; rel=\"next\""), link);
            }
            next = link == null ? null : link.substring(1, link.indexOf('>'));
        }
        assertEquals(java.util.Set.of("1", "2", "3"), java.util.Set.copyOf(paged), "pages together list every tag");
        assertEquals(3, paged.size(), "and each once");

        String listed = new String(skopeo.run(List.of("list-tags", "--tls-verify=false",
                via(mirror.hostPort(), "ghcr.io/org/tool"))).stdout(), StandardCharsets.UTF_8);
        List<String> skopeoTags = new ArrayList<>();
        JSON.readTree(listed).get("Tags").forEach(t -> skopeoTags.add(t.asText()));
        assertEquals(java.util.Set.of("1", "2", "3"), java.util.Set.copyOf(skopeoTags), listed);
    }

    @Test
    void theCatalogListsCachedRepositoriesInTheClientsNaming() throws Exception {
        skopeo.inspectDigest(via(mirror.hostPort(), "app:1"));
        skopeo.inspectDigest(via(mirror.hostPort(), "ghcr.io/org/tool:1"));
        JsonNode catalog = JSON.readTree(mirror.get("/v2/_catalog").body());
        List<String> repositories = new ArrayList<>();
        catalog.get("repositories").forEach(r -> repositories.add(r.asText()));
        assertTrue(repositories.containsAll(List.of("docker.io/library/app", "ghcr.io/org/tool")), repositories.toString());

        HttpResponse<byte[]> page = mirror.get("/v2/_catalog?n=1");
        assertEquals(1, JSON.readTree(page.body()).get("repositories").size());
        assertTrue(page.headers().firstValue("Link").orElse("").startsWith("</v2/_catalog?n=1&last="));
    }

    private static List<String> tags(JsonNode body) {
        List<String> tags = new ArrayList<>();
        body.get("tags").forEach(t -> tags.add(t.asText()));
        return tags;
    }
}
