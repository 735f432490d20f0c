package dev.regmirror.core.client.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Fuzzes the {@code WWW-Authenticate} parser with any header value an upstream could send: it never
 * throws (its documented contract: what cannot be parsed is skipped), every challenge it returns has
 * a lower-case scheme and parameter names that are real tokens, {@link Challenge#select} picks a
 * Bearer challenge with a realm before a Basic one, and the challenges written back canonically
 * parse to the same challenges.
 */
class ChallengeFuzzTest {

    private static final String SEPARATORS = " \t,=\"";

    @FuzzTest
    void anyHeaderValueParsesToWellFormedChallenges(byte[] input) {
        String header = new String(input, StandardCharsets.UTF_8);

        List<Challenge> all = Challenge.parseAll(header);

        for (Challenge challenge : all) {
            assertToken(challenge.scheme());
            assertEquals(challenge.scheme().toLowerCase(Locale.ROOT), challenge.scheme());
            for (String name : challenge.params().keySet()) {
                assertToken(name);
                assertEquals(name.toLowerCase(Locale.ROOT), name);
            }
        }
        Optional<Challenge> selected = Challenge.select(List.of(header));
        Optional<Challenge> bearer = all.stream().filter(c -> c.isBearer() && c.param("realm").isPresent()).findFirst();
        Optional<Challenge> basic = all.stream().filter(Challenge::isBasic).findFirst();
        assertEquals(bearer.isPresent() ? bearer : basic, selected);
        assertEquals(all, Challenge.parseAll(canonical(all)), "canonical form of " + all);
    }

    private static void assertToken(String token) {
        assertFalse(token.isEmpty(), "an empty token");
        for (char c : token.toCharArray()) {
            assertTrue(SEPARATORS.indexOf(c) < 0, "a separator in token " + token);
        }
    }

    /** {@code scheme name="value", name="value", scheme ...}, values quoted with backslash escapes. */
    private static String canonical(List<Challenge> challenges) {
        return challenges.stream().map(challenge -> challenge.scheme() + (challenge.params().isEmpty() ? "" : " "
                + challenge.params().entrySet().stream().map(ChallengeFuzzTest::param)
                .collect(Collectors.joining(", ")))).collect(Collectors.joining(", "));
    }

    private static String param(Map.Entry<String, String> param) {
        return param.getKey() + "=\"" + param.getValue().replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }
}
