package dev.regmirror.core.upstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.regmirror.core.config.HostedSettings;
import dev.regmirror.core.error.InvalidRequestException;
import dev.regmirror.core.error.RegistryErrorCode;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Which names are hosted and which mirrored, with a hosted registry beside the upstreams. */
class HostedRoutingTest {

    private static UpstreamSettings upstream(String registry, List<String> hosts, String prefix) {
        return new UpstreamSettings(registry, List.of(), hosts, prefix, List.of(Endpoint.of(EndpointSettings.anonymous(
                registry, URI.create("https://" + registry), Duration.ofSeconds(1), Duration.ofSeconds(1)))),
                Duration.ofSeconds(30));
    }

    private static final List<UpstreamSettings> UPSTREAMS = List.of(
            upstream("docker.io", List.of("hub.mirror.lan"), "library"), upstream("ghcr.io", List.of(), ""));

    private static HostedSettings hosted(String registry, List<String> namespaces, List<String> hosts) {
        return new HostedSettings(registry, namespaces, hosts, Duration.ofHours(1), false, false, 4 << 20);
    }

    private final UpstreamRouter router = new UpstreamRouter(UPSTREAMS, "docker.io", Map.of(),
            hosted("registry.lan", List.of("lan", "team-a/apps"), List.of("push.mirror.lan")));

    private static Optional<String> optional(String value) {
        return value == null || value.isEmpty() ? Optional.empty() : Optional.of(value);
    }

    @ParameterizedTest(name = "{0} ns={1} host={2} -> {3} hosted={4}")
    @CsvSource({
        // Namespaces: leading components, as the client writes the name.
        "lan/centos,              ,             ,                registry.lan/lan/centos,         true",
        "lan/tools/ci,            ,             ,                registry.lan/lan/tools/ci,       true",
        "lan,                     ,             ,                registry.lan/lan,                true",
        "team-a/apps/web,         ,             ,                registry.lan/team-a/apps/web,    true",
        "team-a/other,            ,             ,                docker.io/team-a/other,          false",
        "lanx/centos,             ,             ,                docker.io/lanx/centos,           false",
        "centos,                  ,             ,                docker.io/library/centos,        false",
        // The registry's name in front, when it looks like a host name.
        "registry.lan/anything/x, ,             ,                registry.lan/anything/x,         true",
        // ?ns= and the Host header name the hosted registry for every name.
        "anything,                registry.lan, ,                registry.lan/anything,           true",
        "registry.lan/x,          registry.lan, ,                registry.lan/x,                  true",
        "centos,                  ,             push.mirror.lan, registry.lan/centos,             true",
        // Another registry (by ns, Host or prefix) keeps the namespaces mirrored.
        "lan/centos,              ghcr.io,      ,                ghcr.io/lan/centos,              false",
        "lan/centos,              ,             hub.mirror.lan,  docker.io/lan/centos,            false",
        "ghcr.io/lan/centos,      ,             ,                ghcr.io/lan/centos,              false",
    })
    void routes(String name, String ns, String host, String expected, boolean hosted) {
        Route route = router.route(new RouteRequest(name, optional(ns), optional(host)));
        assertEquals(expected, route.toString());
        assertEquals(hosted, route.hosted());
    }

    @Test
    void theHostedRegistryAloneIsNoRepository() {
        InvalidRequestException e = assertThrows(InvalidRequestException.class, () -> router.route("registry.lan"));
        assertEquals(RegistryErrorCode.NAME_INVALID, e.code());
    }

    @Test
    void aNameThatIsNotAHostNameIsUsedOnlyInRulesAndNs() {
        UpstreamRouter plain = new UpstreamRouter(UPSTREAMS, "docker.io", Map.of(), hosted("local", List.of("lan"), List.of()));
        assertEquals("docker.io/local/app", plain.route("local/app").toString(), "no prefix: local looks like a repository");
        assertTrue(plain.route(new RouteRequest("app", Optional.of("local"), Optional.empty())).hosted());
        assertTrue(plain.serves("local"));
        assertTrue(plain.route("lan/app").hosted());
    }

    @Test
    void withNothingHostedNoRouteIsHosted() {
        UpstreamRouter mirror = new UpstreamRouter(UPSTREAMS, "docker.io");
        assertFalse(mirror.route("lan/centos").hosted());
        assertFalse(mirror.serves("local"));
        InvalidRequestException e = assertThrows(InvalidRequestException.class,
                () -> mirror.route(new RouteRequest("app", Optional.of("local"), Optional.empty())));
        assertEquals(RegistryErrorCode.NAME_UNKNOWN, e.code());
    }
}
