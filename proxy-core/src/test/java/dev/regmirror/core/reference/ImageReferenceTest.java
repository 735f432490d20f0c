package dev.regmirror.core.reference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.regmirror.core.error.InvalidRequestException;
import dev.regmirror.core.error.RegistryErrorCode;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Images as people write them, split as Docker splits them into registry, repository, tag and digest. */
class ImageReferenceTest {

    private static final String SHA256 = "sha256:abababababababababababababababababababababababababababababababab";
    private static final String SHA512 = "sha512:cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd";

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', nullValues = "-", value = {
            // input                                  | registry          | repository        | tag        | digest
            "alpine                                   | -                 | alpine            | -          | -",
            "alpine:3.19                              | -                 | alpine            | 3.19       | -",
            "library/alpine:3.19                      | -                 | library/alpine    | 3.19       | -",
            "team/sub/app:Latest_1.0-rc               | -                 | team/sub/app      | Latest_1.0-rc | -",
            "ghcr.io/org/app:1.2                      | ghcr.io           | org/app           | 1.2        | -",
            "GHCR.io/org/app                          | GHCR.io           | org/app           | -          | -",
            "docker.io/library/alpine                 | docker.io         | library/alpine    | -          | -",
            "localhost/app                            | localhost         | app               | -          | -",
            "localhost:5000/team/app                  | localhost:5000    | team/app          | -          | -",
            "localhost:5000/team/app:v1               | localhost:5000    | team/app          | v1         | -",
            "registry:5000/app:v1                     | registry:5000     | app               | v1         | -",
            "10.0.0.7:5000/app                        | 10.0.0.7:5000     | app               | -          | -",
            "[::1]:5000/app:v1                        | [::1]:5000        | app               | v1         | -",
            "[fe80::1]/app                            | [fe80::1]         | app               | -          | -",
            "my-host.example.com:65535/a_b/c__d/e--f  | my-host.example.com:65535 | a_b/c__d/e--f | -  | -",
            // a one-word first component is a repository path, not a registry
            "team/app:1                               | -                 | team/app          | 1          | -",
            "app@" + SHA256 + "                       | -                 | app               | -          | " + SHA256,
            "app@" + SHA512 + "                       | -                 | app               | -          | " + SHA512,
            "app:1.0@" + SHA256 + "                   | -                 | app               | 1.0        | " + SHA256,
            "localhost:5000/app:1.0@" + SHA256 + "    | localhost:5000    | app               | 1.0        | " + SHA256,
    })
    void parsesAsDockerDoes(String input, String registry, String repository, String tag, String digest) {
        ImageReference reference = ImageReference.parse(input);
        assertEquals(Optional.ofNullable(registry), reference.registry());
        assertEquals(new RepositoryName(repository), reference.repository());
        assertEquals(Optional.ofNullable(tag).map(Tag::new), reference.tag());
        assertEquals(Optional.ofNullable(digest).map(Digest::parse), reference.digest());
        assertEquals(input, reference.toString(), "the canonical form is what was written");
        assertEquals(reference, ImageReference.parse(reference.toString()));
    }

    @ParameterizedTest(name = "[{index}] \"{0}\" is {1}")
    @CsvSource(delimiter = '|', value = {
            "''                          | NAME_INVALID",
            "App                         | NAME_INVALID",
            "team/App:1                  | NAME_INVALID",
            "a..b/x                      | NAME_INVALID",
            "a.b_c/x                     | NAME_INVALID",
            "-host.io/x                  | NAME_INVALID",
            "host-.io/x                  | NAME_INVALID",
            "localhost:0/x               | NAME_INVALID",
            "localhost:65536/x           | NAME_INVALID",
            "localhost:http/x            | NAME_INVALID",
            "[::1/x                      | NAME_INVALID",
            "[::1]                       | NAME_INVALID",
            "[::1]:5000                  | NAME_INVALID",
            "ghcr.io/                    | NAME_INVALID",
            "ghcr.io                     | NAME_INVALID",
            "ghcr.io:1                   | NAME_INVALID",
            "localhost                   | NAME_INVALID",
            "localhost:5000              | NAME_INVALID",
            ":1.0                        | NAME_INVALID",
            "/app                        | NAME_INVALID",
            "app/                        | NAME_INVALID",
            "app//x                      | NAME_INVALID",
            "../etc:1                    | NAME_INVALID",
            "app/../x                    | NAME_INVALID",
            "app?x=1                     | NAME_INVALID",
            "a b                         | NAME_INVALID",
            "app._x                      | NAME_INVALID",
            "app:                        | TAG_INVALID",
            "app:-1                      | TAG_INVALID",
            "app:.1                      | TAG_INVALID",
            "app:bad!tag                 | TAG_INVALID",
            "app@                        | DIGEST_INVALID",
            "app@sha256:short            | DIGEST_INVALID",
            "app@sha256:ABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABAB | DIGEST_INVALID",
            "app@md5:0123456789abcdef0123456789abcdef | DIGEST_INVALID",
            "app@sha256                  | DIGEST_INVALID",
            "app@" + SHA256 + "@" + SHA256 + " | DIGEST_INVALID",
            "app:1@sha256:xyz            | DIGEST_INVALID",
    })
    void refusesWhatIsNotAnImage(String input, RegistryErrorCode code) {
        assertEquals(code, assertThrows(InvalidRequestException.class, () -> ImageReference.parse(input)).code());
    }

    @Test
    void aTagTooLongAndANameTooLongAreRefused() {
        assertEquals(RegistryErrorCode.TAG_INVALID, code("app:" + "t".repeat(129)));
        ImageReference.parse("app:" + "t".repeat(128));
        String repository = "a/".repeat(120) + "abcdefghijklmn"; // 254 characters
        ImageReference.parse(repository);
        assertEquals(RegistryErrorCode.NAME_INVALID, code(repository + "xy"));
        assertEquals(RegistryErrorCode.NAME_INVALID, code("ghcr.io/" + repository), "the registry counts towards 255");
    }

    @Test
    void messagesNameTheImageAndWhatIsWrongInIt() {
        assertEquals("\"a..b/app:1\": invalid registry \"a..b\": a host name with a dot or a port, localhost, "
                + "or [IPv6], with an optional :port (1-65535)", message("a..b/app:1"));
        assertEquals("\"team/App:1\": invalid repository name \"team/App\": component \"App\" must be lower-case "
                + "letters and digits, separated by '.', '_', '__' or '-'", message("team/App:1"));
        assertEquals("\"ghcr.io\": names a registry but no repository in it", message("ghcr.io"));
        assertTrue(message("app:-1").startsWith("\"app:-1\": invalid tag \"-1\": "), message("app:-1"));
        assertTrue(message("app@sha256:1").startsWith("\"app@sha256:1\": invalid digest \"sha256:1\": "));
    }

    @Test
    void theDigestIsWhatIsFetchedAndATagBesideItIsOnlyKept() {
        ImageReference both = ImageReference.parse("alpine:3.19@" + SHA256);
        assertEquals(Digest.parse(SHA256), both.reference());
        assertEquals(Optional.of(new Tag("3.19")), both.tag());
        assertEquals(new Tag("3.19"), ImageReference.parse("alpine:3.19").reference());
        assertEquals(new Tag("latest"), ImageReference.parse("alpine").reference());
    }

    @Test
    void withDefaultTagAddsLatestOnlyWhenNothingIsNamed() {
        assertEquals(ImageReference.parse("alpine:latest"), ImageReference.parse("alpine").withDefaultTag());
        ImageReference tagged = ImageReference.parse("alpine:3");
        assertSame(tagged, tagged.withDefaultTag());
        ImageReference pinned = ImageReference.parse("alpine@" + SHA256);
        assertSame(pinned, pinned.withDefaultTag());
    }

    @Test
    void theNameKeepsTheRegistryAsWritten() {
        assertEquals("ghcr.io/org/app", ImageReference.parse("ghcr.io/org/app:1@" + SHA256).name());
        assertEquals("alpine", ImageReference.parse("alpine:3").name());
    }

    @Test
    void theConstructorChecksWhatParseChecks() {
        RepositoryName app = new RepositoryName("app");
        assertEquals(RegistryErrorCode.NAME_INVALID, assertThrows(InvalidRequestException.class,
                () -> new ImageReference(Optional.of("team"), app, Optional.empty(), Optional.empty())).code());
        assertEquals("ghcr.io/app:1", new ImageReference(Optional.of("ghcr.io"), app, Optional.of(new Tag("1")),
                Optional.empty()).toString());
        assertEquals(RegistryErrorCode.NAME_INVALID, assertThrows(InvalidRequestException.class,
                () -> new ImageReference(Optional.empty(), new RepositoryName("ghcr.io/app"), Optional.empty(),
                        Optional.empty()), "would read back as registry ghcr.io").code());
    }

    @Test
    void registriesAreWhatDockerTakesForOne() {
        assertTrue(ImageReference.isRegistry("localhost"));
        assertTrue(ImageReference.isRegistry("[::1]:5000"));
        assertTrue(ImageReference.isRegistry("registry:5000"));
        assertFalse(ImageReference.isRegistry("registry"));
        assertFalse(ImageReference.isRegistry("a..b"));
        assertTrue(ImageReference.namesRegistry("a..b"), "meant as a registry, so refused rather than taken as a path");
    }

    private static String message(String image) {
        return assertThrows(InvalidRequestException.class, () -> ImageReference.parse(image), image).getMessage();
    }

    private static RegistryErrorCode code(String image) {
        return assertThrows(InvalidRequestException.class, () -> ImageReference.parse(image), image).code();
    }
}
