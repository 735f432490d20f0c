package dev.regmirror.server.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.regmirror.core.admin.PurgeSelection;
import dev.regmirror.core.config.HostedSettings;
import dev.regmirror.core.error.InvalidRequestException;
import dev.regmirror.core.error.RegistryErrorCode;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.reference.RepositoryName;
import dev.regmirror.core.reference.Tag;
import dev.regmirror.core.upstream.Endpoint;
import dev.regmirror.core.upstream.EndpointSettings;
import dev.regmirror.core.upstream.Route;
import dev.regmirror.core.upstream.UpstreamRouter;
import dev.regmirror.core.upstream.UpstreamSettings;
import io.netty.handler.codec.http.HttpMethod;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The decoding of purge and prune requests: selectors routed as pulls are, and registry errors for bad ones. */
class CleanupRequestsTest {

    private static final Route APP = new Route("docker.io", new RepositoryName("library/app"));
    private static final Route GHCR = new Route("ghcr.io", new RepositoryName("org/tool"));
    private static final Digest APP_MANIFEST = Digest.sha256Of("app-manifest".getBytes(StandardCharsets.UTF_8));

    @Test
    void hostedNamesAreNotPurged() {
        UpstreamRouter router = new UpstreamRouter(List.of(upstream("docker.io", "library")), "docker.io", Map.of(),
                new HostedSettings("local", List.of("lan"), List.of(), Duration.ofHours(1), false, false, 4 << 20));
        for (String image : List.of("lan/app", "lan/app:1", "lan/app@" + APP_MANIFEST)) {
            InvalidRequestException denied = assertThrows(InvalidRequestException.class,
                    () -> parse(router, "image", image));
            assertEquals(RegistryErrorCode.DENIED, denied.code(), image);
        }
        assertEquals(new PurgeSelection.Everything(), parse(router, "all", "true"));
    }

    @Test
    void selectorsAreRoutedAsPullsAre() {
        UpstreamRouter router = router();
        assertEquals(new PurgeSelection.OneTag(APP, new Tag("1.2")), parse(router, "image", "app:1.2"));
        assertEquals(new PurgeSelection.Repository(APP), parse(router, "image", "docker.io/library/app"));
        assertEquals(new PurgeSelection.OneManifest(GHCR, APP_MANIFEST, Optional.of(new Tag("2"))),
                parse(router, "image", "ghcr.io/org/tool:2@" + APP_MANIFEST));
        assertEquals(new PurgeSelection.OneManifest(GHCR, APP_MANIFEST),
                parse(router, "image", "ghcr.io/org/tool@" + APP_MANIFEST));
        assertEquals(new PurgeSelection.Upstream("ghcr.io"), parse(router, "upstream", "ghcr.io"));
        assertEquals(new PurgeSelection.Everything(), parse(router, "all", "true"));
    }

    @Test
    void badSelectorsAreRegistryErrors() {
        UpstreamRouter router = router();
        assertEquals(RegistryErrorCode.NAME_INVALID, code(() -> CleanupRequests.selection(Map.of(), router)));
        assertEquals(RegistryErrorCode.NAME_INVALID, code(() -> CleanupRequests.selection(
                Map.of("image", List.of("app"), "all", List.of("true")), router)));
        assertEquals(RegistryErrorCode.NAME_INVALID, code(() -> parse(router, "all", "yes")));
        assertEquals(RegistryErrorCode.NAME_INVALID, code(() -> parse(router, "image", "App:1")));
        assertEquals(RegistryErrorCode.TAG_INVALID, code(() -> parse(router, "image", "app:-bad")));
        assertEquals(RegistryErrorCode.DIGEST_INVALID, code(() -> parse(router, "image", "app@sha256:xyz")));
        assertEquals(RegistryErrorCode.NAME_UNKNOWN, code(() -> parse(router, "image", "quay.io/org/app:1")));
        assertEquals(RegistryErrorCode.NAME_UNKNOWN, code(() -> parse(router, "image", "[::1]:5000/app:1")));
        assertEquals(RegistryErrorCode.NAME_INVALID, code(() -> parse(router, "image", "a..b/app:1")));
        assertEquals(RegistryErrorCode.DIGEST_INVALID, code(() -> parse(router, "image", "app:1@sha256:xyz")));
        assertEquals(RegistryErrorCode.NAME_UNKNOWN, code(() -> parse(router, "upstream", "quay.io")));
    }

    @Test
    void dryRunIsOneTrueOrFalse() {
        UpstreamRouter router = router();
        Map<String, List<String>> all = Map.of("all", List.of("true"));
        assertEquals(false, ((AdminRequest.Purge) CleanupRequests.decode("/admin/cache", HttpMethod.DELETE, true, all,
                router)).dryRun());
        assertEquals(true, ((AdminRequest.Prune) CleanupRequests.decode("/admin/prune", HttpMethod.POST, true,
                Map.of("dryRun", List.of("true")), router)).dryRun());
        for (List<String> values : List.of(List.of("yes"), List.of("false", "true"), List.of("true", "false"))) {
            Map<String, List<String>> query = Map.of("all", List.of("true"), "dryRun", values);
            assertEquals(RegistryErrorCode.NAME_INVALID, code(() -> CleanupRequests.decode("/admin/cache",
                    HttpMethod.DELETE, true, query, router)), "dryRun=" + values);
        }
    }

    @Test
    void aParameterNeitherTakesIsRefusedBeforeAnythingIsRemoved() {
        UpstreamRouter router = router();
        InvalidRequestException misspelt = assertThrows(InvalidRequestException.class, () -> CleanupRequests.decode(
                "/admin/cache", HttpMethod.DELETE, true, Map.of("image", List.of("app:1.2"), "dry-run",
                        List.of("true")), router));
        assertEquals(RegistryErrorCode.NAME_INVALID, misspelt.code());
        assertEquals("DELETE /admin/cache takes image, upstream, all, dryRun, not \"dry-run\"", misspelt.getMessage());
        assertEquals(RegistryErrorCode.NAME_INVALID, code(() -> CleanupRequests.decode("/admin/prune", HttpMethod.POST,
                true, Map.of("image", List.of("app")), router)));
    }

    private static PurgeSelection parse(UpstreamRouter router, String name, String value) {
        return CleanupRequests.selection(Map.of(name, List.of(value)), router);
    }

    private static RegistryErrorCode code(Runnable parse) {
        return assertThrows(InvalidRequestException.class, parse::run).code();
    }

    /** docker.io (its official images under library/) and ghcr.io. */
    static UpstreamRouter router() {
        return new UpstreamRouter(List.of(upstream("docker.io", "library"), upstream("ghcr.io", "")), "docker.io");
    }

    private static UpstreamSettings upstream(String registry, String prefix) {
        return new UpstreamSettings(registry, List.of(), List.of(), prefix, List.of(Endpoint.of(EndpointSettings.anonymous(
                registry, URI.create("http://127.0.0.1:1"), Duration.ofSeconds(1), Duration.ofSeconds(1)))),
                Duration.ofSeconds(30));
    }
}
