package dev.regmirror.core.upstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.regmirror.core.error.InvalidRequestException;
import dev.regmirror.core.error.RegistryErrorCode;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class UpstreamRouterTest {

    private static final UpstreamSettings HUB = new UpstreamSettings("docker.io", URI.create("https://registry-1.docker.io"),
            "library", Optional.empty(), Optional.empty(), Duration.ofSeconds(1), Duration.ofSeconds(1));
    private static final UpstreamSettings OTHER = UpstreamSettings.anonymous("registry.lan",
            URI.create("http://127.0.0.1:1"), Duration.ofSeconds(1), Duration.ofSeconds(1));

    @ParameterizedTest
    @CsvSource({
        "alpine, library/alpine",
        "library/alpine, library/alpine",
        "bitnami/redis, bitnami/redis",
        "org/team/app, org/team/app",
    })
    void routesUnprefixedNamesToTheDefaultUpstream(String requested, String upstreamName) {
        Route route = new UpstreamRouter(List.of(HUB, OTHER), "docker.io").route(requested);
        assertEquals("docker.io", route.registry());
        assertEquals(upstreamName, route.name().value());
    }

    @Test
    void addsNoPrefixWhereTheUpstreamHasNone() {
        Route route = new UpstreamRouter(List.of(HUB, OTHER), "registry.lan").route("alpine");
        assertEquals("registry.lan/alpine", route.toString());
    }

    @Test
    void invalidNamesAreNameInvalid() {
        UpstreamRouter router = new UpstreamRouter(List.of(HUB), "docker.io");
        for (String bad : new String[] {"", "../x", "UPPER", "a//b"}) {
            InvalidRequestException e = assertThrows(InvalidRequestException.class, () -> router.route(bad));
            assertEquals(RegistryErrorCode.NAME_INVALID, e.code(), bad);
        }
    }

    @Test
    void refusesAnUnknownDefault() {
        assertThrows(IllegalArgumentException.class, () -> new UpstreamRouter(List.of(HUB), "ghcr.io"));
    }
}
