package dev.regmirror.core.upstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.regmirror.core.error.InvalidRequestException;
import dev.regmirror.core.error.RegistryErrorCode;
import dev.regmirror.core.reference.RepositoryName;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Every way a request can name its upstream, and what the repository is called there. */
class UpstreamRouterTest {

    private static UpstreamSettings upstream(String registry, List<String> aliases, List<String> hosts, String prefix) {
        return new UpstreamSettings(registry, aliases, hosts, prefix, List.of(Endpoint.of(EndpointSettings.anonymous(
                registry, URI.create("https://" + registry), Duration.ofSeconds(1), Duration.ofSeconds(1)))),
                Duration.ofSeconds(30));
    }

    private static final List<UpstreamSettings> UPSTREAMS = List.of(
            upstream("docker.io", List.of("registry-1.docker.io", "index.docker.io"), List.of("hub.mirror.lan"), "library"),
            upstream("ghcr.io", List.of(), List.of("ghcr.mirror.lan"), ""),
            upstream("registry.lan:5000", List.of(), List.of(), ""));

    private final UpstreamRouter router = new UpstreamRouter(UPSTREAMS, "docker.io",
            Map.of("library/kafka", "docker.io/wurstmeister/kafka", "tools/ci", "ghcr.io/acme/ci-runner"));

    private static Optional<String> optional(String value) {
        return value == null || value.isEmpty() ? Optional.empty() : Optional.of(value);
    }

    @ParameterizedTest(name = "{0} ns={1} host={2} -> {3}")
    @CsvSource({
        // Docker daemon registry-mirrors: unprefixed names go to the default upstream.
        "alpine,                  ,          ,               docker.io/library/alpine",
        "library/nginx,           ,          ,               docker.io/library/nginx",
        "bitnami/redis,           ,          ,               docker.io/bitnami/redis",
        // Prefix: a configured registry or alias as the first component.
        "docker.io/nginx,         ,          ,               docker.io/library/nginx",
        "registry-1.docker.io/library/nginx, , ,             docker.io/library/nginx",
        "ghcr.io/org/tool,        ,          ,               ghcr.io/org/tool",
        "ghcr.io/tool,            ,          ,               ghcr.io/tool",
        "registry.lan:5000/team/app, ,       ,               registry.lan:5000/team/app",
        // Host: a Host header configured for an upstream, unprefixed names.
        "org/tool,                ,          ghcr.mirror.lan, ghcr.io/org/tool",
        "nginx,                   ,          hub.mirror.lan, docker.io/library/nginx",
        "org/tool,                ,          other.lan,      docker.io/org/tool",
        // containerd: ?ns= names the upstream.
        "org/tool,                ghcr.io,   ,               ghcr.io/org/tool",
        "library/nginx,           docker.io, ghcr.mirror.lan, docker.io/library/nginx",
        "nginx,                   index.docker.io, ,         docker.io/library/nginx",
        "ghcr.io/org/tool,        ghcr.io,   ,               ghcr.io/org/tool",
        "docker.io/library/nginx, docker.io, ,               docker.io/library/nginx",
        // Local aliases, after routing.
        "kafka,                   ,          ,               docker.io/wurstmeister/kafka",
        "docker.io/library/kafka, ,          ,               docker.io/wurstmeister/kafka",
        "tools/ci,                ,          ,               ghcr.io/acme/ci-runner",
    })
    void routes(String name, String namespace, String host, String expected) {
        assertEquals(expected, router.route(new RouteRequest(name, optional(namespace), optional(host))).toString());
    }

    @ParameterizedTest
    @CsvSource({
        "evil.example.com/x/y,",
        "localhost/x,",
        "localhost:5000/x,",
        "'[::1]:5000/x',",
        "x/y, quay.io",
    })
    void unconfiguredRegistriesAreNameUnknownAndListWhatIsServed(String name, String namespace) {
        InvalidRequestException e = assertThrows(InvalidRequestException.class,
                () -> router.route(new RouteRequest(name, optional(namespace), Optional.empty())));
        assertEquals(RegistryErrorCode.NAME_UNKNOWN, e.code());
        assertEquals(404, e.status());
        assertTrue(e.getMessage().contains("docker.io, ghcr.io, registry.lan:5000"), e.getMessage());
        assertTrue(e.getMessage().contains("/v2/<registry>/<repository>"), e.getMessage());
    }

    @Test
    void invalidNamesAreNameInvalid() {
        for (String bad : new String[] {"", "../x", "UPPER", "a//b", "ghcr.io", "ghcr.io/", "ghcr.io/../x",
                "a..b/x", "a.b_c/x", "[::1/x", "localhost:99999/x"}) {
            InvalidRequestException e = assertThrows(InvalidRequestException.class, () -> router.route(bad), bad);
            assertEquals(RegistryErrorCode.NAME_INVALID, e.code(), bad);
        }
    }

    @Test
    void refusesAnUnknownDefaultAndAliasesToUnconfiguredRegistries() {
        assertThrows(IllegalArgumentException.class, () -> new UpstreamRouter(UPSTREAMS, "quay.io"));
        IllegalArgumentException alias = assertThrows(IllegalArgumentException.class,
                () -> new UpstreamRouter(UPSTREAMS, "docker.io", Map.of("x", "quay.io/y/z")));
        assertTrue(alias.getMessage().contains("quay.io"), alias.getMessage());
    }

    @Test
    void rewritesNamesIntoAnEndpointsLayout() {
        NameRewrite syncStation = new NameRewrite("ddn-k8s/docker.io/{repository}");
        assertEquals(new RepositoryName("ddn-k8s/docker.io/wurstmeister/kafka"),
                syncStation.apply(new RepositoryName("wurstmeister/kafka")));
        assertEquals(new RepositoryName("library/nginx"), NameRewrite.IDENTITY.apply(new RepositoryName("library/nginx")));
        assertThrows(IllegalArgumentException.class, () -> new NameRewrite("no-placeholder"));
        assertThrows(IllegalArgumentException.class, () -> new NameRewrite("{repository}/{repository}"));
        assertThrows(IllegalArgumentException.class, () -> new NameRewrite("UPPER/{repository}"));
    }
}
