package dev.regmirror.core.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.regmirror.core.reference.RepositoryName;
import dev.regmirror.core.upstream.Route;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Image patterns against routes, as a table. */
class ImagePatternTest {

    private static Route route(String image) {
        int slash = image.indexOf('/');
        return new Route(image.substring(0, slash), new RepositoryName(image.substring(slash + 1)));
    }

    @Test
    void starMatchesWithinOneSegmentAndDoubleStarAnyNumber() {
        Object[][] table = {
            {"docker.io/library/*", "docker.io/library/alpine", true},
            {"docker.io/library/*", "docker.io/library/sub/alpine", false},
            {"docker.io/library/*", "docker.io/other/alpine", false},
            {"docker.io/library/*", "ghcr.io/library/alpine", false},
            {"ghcr.io/myorg/**", "ghcr.io/myorg/app", true},
            {"ghcr.io/myorg/**", "ghcr.io/myorg/team/app", true},
            {"ghcr.io/myorg/**", "ghcr.io/myorg", true},
            {"ghcr.io/myorg/**", "ghcr.io/myorgx/app", false},
            {"ghcr.io/**/app", "ghcr.io/a/b/c/app", true},
            {"ghcr.io/**/app", "ghcr.io/app", true},
            {"ghcr.io/**/app", "ghcr.io/a/apps", false},
            {"**", "quay.io/any/thing", true},
            {"*/library/*", "docker.io/library/alpine", true},
            {"*/library/*", "registry.lan:5000/library/alpine", true},
            {"registry.lan:5000/**", "registry.lan:5000/team/app", true},
            {"docker.io/library/alp*", "docker.io/library/alpine", true},
            {"docker.io/library/*ine", "docker.io/library/alpine", true},
            {"docker.io/library/a*p*e", "docker.io/library/alpine", true},
            {"docker.io/library/a*x", "docker.io/library/alpine", false},
            {"docker.io/library/alpine", "docker.io/library/alpine", true},
            {"docker.io/library/alpine", "docker.io/library/alpine2", false},
            {"docker.io/*/*", "docker.io/library/alpine", true},
        };
        for (Object[] row : table) {
            assertEquals(row[2], new ImagePattern((String) row[0]).matches(route((String) row[1])), row[0] + " ~ " + row[1]);
        }
    }

    @Test
    void registryIsTheFirstSegmentUnlessAWildcard() {
        assertEquals(Optional.of("docker.io"), new ImagePattern("docker.io/**").registry());
        assertEquals(Optional.empty(), new ImagePattern("*/library/*").registry());
        assertEquals(Optional.empty(), new ImagePattern("**").registry());
    }

    @Test
    void invalidPatternsAreRefusedWithTheReason() {
        for (String bad : new String[] {"", "docker.io", "docker.io/", "docker.io//alpine", "Docker.io/x",
                "docker.io/a**", "docker.io/a b", "/alpine", "docker.io/library/***"}) {
            assertThrows(IllegalArgumentException.class, () -> new ImagePattern(bad), bad);
        }
        assertEquals("\"docker.io\": a pattern is <registry>/<repository pattern>, such as docker.io/library/* or "
                + "ghcr.io/org/**", assertThrows(IllegalArgumentException.class, () -> new ImagePattern("docker.io"))
                .getMessage());
    }
}
