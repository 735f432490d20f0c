package dev.regmirror.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** How {@code regmirror export} reads an image argument, as Docker parses it. */
class ImageReferenceTest {

    private static final String DIGEST = "sha256:" + "ab".repeat(32);

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "alpine                         | alpine                  | latest | ''",
            "alpine:3.20                    | alpine                  | 3.20   | ''",
            "ghcr.io/org/app:1.2            | ghcr.io/org/app         | 1.2    | ''",
            "localhost:5000/team/app        | localhost:5000/team/app | latest | ''",
            "localhost:5000/team/app:v1     | localhost:5000/team/app | v1     | ''",
            "app@sha256:abababababababababababababababababababababababababababababababab | app | '' | sha256:abababababababababababababababababababababababababababababababab",
            "app:1.0@sha256:abababababababababababababababababababababababababababababababab | app | 1.0 | sha256:abababababababababababababababababababababababababababababababab",
    })
    void parsesAsDockerDoes(String input, String name, String tag, String digest) {
        ImageReference reference = ImageReference.parse(input);
        assertEquals(name, reference.name());
        assertEquals(tag, reference.tag().map(t -> t.value()).orElse(""));
        assertEquals(digest, reference.digest().map(Object::toString).orElse(""));
        assertEquals(digest.isEmpty() ? tag : digest, reference.reference());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "App", "app:", "app:bad tag", "app@sha256:12", "../etc:1", "app?x=1", "app/../x"})
    void refusesWhatIsNotAnImage(String input) {
        assertThrows(IllegalArgumentException.class, () -> ImageReference.parse(input));
    }
}
