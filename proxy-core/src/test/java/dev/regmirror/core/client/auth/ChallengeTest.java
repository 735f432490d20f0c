package dev.regmirror.core.client.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Parsing WWW-Authenticate as registries send it, and as they sometimes mangle it. */
class ChallengeTest {

    @Test
    void dockerHubBearerChallenge() {
        List<Challenge> all = Challenge.parseAll("Bearer realm=\"https://auth.docker.io/token\","
                + "service=\"registry.docker.io\",scope=\"repository:library/alpine:pull\"");

        assertEquals(List.of(new Challenge("bearer", Map.of("realm", "https://auth.docker.io/token",
                "service", "registry.docker.io", "scope", "repository:library/alpine:pull"))), all);
    }

    @Test
    void commasAndEscapesInsideQuotesBelongToTheValue() {
        Challenge c = Challenge.parseAll("Bearer realm=\"https://r/token\", scope=\"repository:a/b:pull,push\", "
                + "error=\"say \\\"hi\\\"\"").get(0);

        assertEquals(Optional.of("repository:a/b:pull,push"), c.param("scope"));
        assertEquals(Optional.of("say \"hi\""), c.param("error"));
    }

    @Test
    void schemeAndParameterNamesAreCaseInsensitiveAndValuesMayBeUnquoted() {
        Challenge c = Challenge.parseAll("BEARER Realm=https://r/token ,  Service = reg").get(0);

        assertTrue(c.isBearer());
        assertEquals(Optional.of("https://r/token"), c.param("realm"));
        assertEquals(Optional.of("reg"), c.param("SERVICE"));
    }

    @Test
    void basicChallengeAndSeveralChallengesInOneHeader() {
        List<Challenge> all = Challenge.parseAll("Basic realm=Registry, Bearer realm=\"https://r/token\",service=\"s\"");

        assertEquals(2, all.size());
        assertTrue(all.get(0).isBasic());
        assertEquals(Optional.of("Registry"), all.get(0).param("realm"));
        assertEquals(Optional.of("s"), all.get(1).param("service"));
    }

    @Test
    void selectPrefersBearerWithARealmOverBasic() {
        Optional<Challenge> chosen = Challenge.select(List.of("Basic realm=\"x\"", "Bearer service=\"no-realm\"",
                "Bearer realm=\"https://r/token\""));

        assertEquals(Optional.of("https://r/token"), chosen.flatMap(c -> c.param("realm")));
        assertEquals(Optional.of("basic"), Challenge.select(List.of("Basic realm=\"x\"", "Bearer service=\"s\""))
                .map(Challenge::scheme));
        assertEquals(Optional.empty(), Challenge.select(List.of("Negotiate", "")));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", ",,,", "Bearer realm=\"unterminated", "Bearer =\"x\"", "Bearer realm=", "==", "\""})
    void malformedHeadersNeverThrow(String header) {
        Challenge.parseAll(header);
        Challenge.select(List.of(header));
    }
}
