package dev.regmirror.core.upstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.regmirror.core.config.HostedSettings;
import dev.regmirror.core.error.InvalidRequestException;
import dev.regmirror.core.error.RegistryErrorCode;
import dev.regmirror.core.reference.ImageReference;
import dev.regmirror.core.reference.RepositoryName;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Fuzzes routing with any name, {@code ?ns=} and Host a client could send, and image references as
 * people write them. A request either routes to a configured upstream (or the hosted registry) under
 * a valid repository name that stays inside the cache as a path, or is refused as NAME_INVALID or
 * NAME_UNKNOWN, never anything else; an image reference that parses reads back from its
 * {@code toString()} to an equal reference, and is refused otherwise only with a name, tag or digest
 * error.
 *
 * <p>The input is {@code name\nnamespace\nhost}; an empty or missing namespace or host is absent.
 */
class RoutingFuzzTest {

    private static final Path CACHE = Path.of("/cache/repositories");
    private static final Set<String> REGISTRIES = Set.of("docker.io", "ghcr.io", "localhost:5000", "local");
    private static final Set<RegistryErrorCode> NAME_ERRORS = Set.of(RegistryErrorCode.NAME_INVALID,
            RegistryErrorCode.NAME_UNKNOWN);
    private static final Set<RegistryErrorCode> REFERENCE_ERRORS = Set.of(RegistryErrorCode.NAME_INVALID,
            RegistryErrorCode.TAG_INVALID, RegistryErrorCode.DIGEST_INVALID);

    private static final UpstreamRouter ROUTER = new UpstreamRouter(List.of(
            upstream("docker.io", List.of("registry-1.docker.io"), List.of(), "library"),
            upstream("ghcr.io", List.of(), List.of("ghcr.mirror.lan"), ""),
            upstream("localhost:5000", List.of(), List.of(), "")),
            "docker.io", Map.of("library/kafka", "docker.io/wurstmeister/kafka"),
            new HostedSettings("local", List.of("lan"), List.of("registry.lan"), Duration.ofHours(1), false, false,
                    4 << 20));

    private static UpstreamSettings upstream(String registry, List<String> aliases, List<String> hosts, String prefix) {
        return new UpstreamSettings(registry, aliases, hosts, prefix, List.of(Endpoint.of(EndpointSettings.anonymous(
                registry, URI.create("http://127.0.0.1:1"), Duration.ofSeconds(1), Duration.ofSeconds(1)))),
                Duration.ofSeconds(30));
    }

    @FuzzTest
    void anyNameRoutesToAValidRepositoryOrIsANameError(byte[] input) {
        String[] parts = new String(input, StandardCharsets.UTF_8).split("\n", 3);
        String name = parts[0];
        Optional<String> namespace = part(parts, 1);
        Optional<String> host = part(parts, 2);

        routed(() -> ROUTER.route(new RouteRequest(name, namespace, host)));
        if (namespace.isEmpty() && host.isEmpty()) {
            assertEquals(outcome(() -> ROUTER.route(name)), outcome(() -> ROUTER.route(RouteRequest.of(name))));
        }

        ImageReference image;
        try {
            image = ImageReference.parse(name);
        } catch (InvalidRequestException e) {
            assertTrue(REFERENCE_ERRORS.contains(e.code()), "parse " + name + ": " + e.code());
            return;
        }
        assertEquals(image, ImageReference.parse(image.toString()), "round trip of " + name);
        assertEquals(image.toString(), ImageReference.parse(image.toString()).toString());
        assertTrue(RepositoryName.isValid(image.repository().value()));
        image.registry().ifPresent(registry -> assertTrue(ImageReference.isRegistry(registry), registry));
        Route route = routed(() -> ROUTER.route(image));
        if (route != null && image.registry().isPresent()) {
            assertEquals(ROUTER.upstreamNamed(image.registry().get()).orElseThrow().registry(), route.registry(),
                    "an image naming its registry is fetched from it: " + image);
        }
    }

    private static Optional<String> part(String[] parts, int index) {
        return parts.length > index && !parts[index].isEmpty() ? Optional.of(parts[index]) : Optional.empty();
    }

    /** The route, checked, or null when refused with a name error. */
    private static Route routed(java.util.function.Supplier<Route> routing) {
        Route route;
        try {
            route = routing.get();
        } catch (InvalidRequestException e) {
            if (!NAME_ERRORS.contains(e.code())) {
                fail("refused with " + e.code() + ": " + e.getMessage());
            }
            return null;
        }
        assertTrue(REGISTRIES.contains(route.registry()), route.registry());
        assertEquals("local".equals(route.registry()), route.hosted(), route.toString());
        String repository = route.name().value();
        assertTrue(RepositoryName.isValid(repository), repository);
        assertFalse(repository.contains(".."), repository);
        Path path = CACHE.resolve(route.registry()).resolve(repository).normalize();
        assertTrue(path.startsWith(CACHE.resolve(route.registry())) && !path.equals(CACHE.resolve(route.registry())),
                "repository " + repository + " lands at " + path);
        return route;
    }

    private static Object outcome(java.util.function.Supplier<Route> routing) {
        try {
            return routing.get();
        } catch (InvalidRequestException e) {
            return e.code();
        }
    }
}
