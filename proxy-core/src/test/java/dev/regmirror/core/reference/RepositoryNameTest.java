package dev.regmirror.core.reference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.regmirror.core.error.InvalidRequestException;
import dev.regmirror.core.error.RegistryErrorCode;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class RepositoryNameTest {

    @ParameterizedTest
    @ValueSource(strings = {"alpine", "library/alpine", "my-org/sub.group/app_name", "a__b", "a--b/c", "0/1/2/3/4"})
    void acceptsTheSpecGrammar(String value) {
        assertEquals(value, new RepositoryName(value).toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "Alpine", "/alpine", "alpine/", "a//b", "..", "../etc", "a/../b", "a/./b",
            "-a", "a-", "a___b", "a b", "a\\b", "a%2fb", "a:b"})
    void rejectsEverythingElseAsNameInvalid(String value) {
        InvalidRequestException e = assertThrows(InvalidRequestException.class, () -> new RepositoryName(value));
        assertEquals(RegistryErrorCode.NAME_INVALID, e.code());
        assertEquals(400, e.status());
    }

    @Test
    void limitsLengthTo255() {
        String longest = "a".repeat(255);
        assertEquals(longest, new RepositoryName(longest).value());
        assertThrows(InvalidRequestException.class, () -> new RepositoryName("a".repeat(256)));
    }

    @Test
    void splitsAndPrefixesComponents() {
        RepositoryName name = new RepositoryName("alpine");
        assertEquals(List.of("library", "alpine"), name.prefixedWith("library").components());
    }

    @org.junit.jupiter.api.Test
    void theComponentScanAcceptsExactlyWhatTheSpecsGrammarDoes() {
        java.util.regex.Pattern grammar = java.util.regex.Pattern.compile("[a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*");
        char[] alphabet = {'a', 'z', '0', '9', '.', '_', '-', 'A', '/', ':'};
        java.util.SplittableRandom random = new java.util.SplittableRandom(12);
        for (int n = 0; n < 200_000; n++) {
            StringBuilder component = new StringBuilder();
            int length = random.nextInt(9);
            for (int i = 0; i < length; i++) {
                component.append(alphabet[random.nextInt(alphabet.length)]);
            }
            String value = component.toString();
            org.junit.jupiter.api.Assertions.assertEquals(grammar.matcher(value).matches(),
                    RepositoryName.isComponent(value), value);
        }
    }
}
