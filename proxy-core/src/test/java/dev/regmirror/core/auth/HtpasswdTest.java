package dev.regmirror.core.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** htpasswd files as nginx and distribution read them, bcrypt entries only. */
class HtpasswdTest {

    static final String ALICE = "$2y$05$Iffa3/9SpPbEUfu1s9tSiO8geZ6zf1kKuO1LdiCfGYQQi1.1svlF2";
    static final String BOB = "$2b$04$" + "abcdefghijklmnopqrstuv" + "ABCDEFGHIJKLMNOPQRSTUVWXYZ01234";
    static final String CAROL = "$2a$31$" + "./abcdefghijklmnopqrst" + "ABCDEFGHIJKLMNOPQRSTUVWXYZ01234";

    @TempDir
    Path dir;

    private static Htpasswd parse(String content) throws IOException {
        return Htpasswd.parse("htpasswd file /etc/htpasswd", content);
    }

    private static String refusal(String content) {
        return assertThrows(IOException.class, () -> parse(content)).getMessage();
    }

    @Test
    void readsBcryptEntriesOfEveryVersionSkippingCommentsAndBlankLines() throws IOException {
        Htpasswd htpasswd = parse("# accounts\n\nalice:" + ALICE + "\r\n  bob:" + BOB + "  \ncarol:" + CAROL
                + ":nginx comment\n");
        assertEquals(3, htpasswd.size());
        assertEquals(Optional.of(ALICE), htpasswd.hash("alice"));
        assertEquals(Optional.of(BOB), htpasswd.hash("bob"));
        assertEquals(Optional.of(CAROL), htpasswd.hash("carol"));
        assertEquals(Optional.empty(), htpasswd.hash("dave"));
        assertFalse(htpasswd.toString().contains(ALICE), htpasswd.toString());
    }

    @Test
    void aByteOrderMarkIsNotPartOfTheFirstName() throws IOException {
        assertEquals(Optional.of(ALICE), parse("\uFEFFalice:" + ALICE).hash("alice"));
    }

    @Test
    void otherHashFormatsAreRefusedNamingFileLineAndKindButNotTheHash() {
        String[][] cases = {
            {"alice:$apr1$r31.....$HqJZimcKQFAMYayBlzkrA/", "an Apache MD5 ($apr1$) hash"},
            {"alice:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=", "a SHA-1 ({SHA}) hash"},
            {"alice:$1$abc$abcdefghijklmnopqrstuv", "an MD5-crypt ($1$) hash"},
            {"alice:$6$salt$hash", "a SHA-crypt ($6$) hash"},
            {"alice:rl8bVvQRl6Axg", "a crypt() hash or a plain-text password"},
            {"alice:$2y$03$" + ALICE.substring(7), "a malformed or unsupported bcrypt hash"},
            {"alice:$2x$05$" + ALICE.substring(7), "a malformed or unsupported bcrypt hash"},
            {"alice:" + ALICE.substring(0, 59), "a malformed or unsupported bcrypt hash"},
            {"alice:", "no password hash"},
        };
        for (String[] c : cases) {
            String message = refusal("# header\n" + c[0] + "\n");
            assertEquals("htpasswd file /etc/htpasswd, line 2 (user alice): " + c[1]
                    + "; only bcrypt hashes ($2y$, $2a$, $2b$) are accepted: create them with htpasswd -B", message);
            String hash = c[0].substring("alice:".length());
            assertTrue(hash.length() < 4 || !message.contains(hash.substring(3)), message);
        }
    }

    @Test
    void malformedLinesAndDuplicatesAreRefusedWithTheirLine() {
        assertEquals("htpasswd file /etc/htpasswd, line 1: not user:hash", refusal("alice " + ALICE));
        assertEquals("htpasswd file /etc/htpasswd, line 2: empty user name", refusal("alice:" + ALICE + "\n:" + BOB));
        assertEquals("htpasswd file /etc/htpasswd, line 4: user alice is already defined on line 1",
                refusal("alice:" + ALICE + "\nbob:" + BOB + "\n\nalice:" + CAROL));
        assertTrue(refusal("al\u0001ice:" + ALICE).startsWith("htpasswd file /etc/htpasswd, line 1: invalid user name"));
    }

    @Test
    void readingNamesTheFile() throws IOException {
        Path file = dir.resolve("htpasswd");
        assertEquals("cannot read htpasswd file " + file + ": no such file",
                assertThrows(IOException.class, () -> Htpasswd.read(file)).getMessage());
        Files.write(file, new byte[] {'a', ':', (byte) 0xff});
        assertEquals("htpasswd file " + file + ": not UTF-8 text",
                assertThrows(IOException.class, () -> Htpasswd.read(file)).getMessage());
        Files.writeString(file, "alice:" + ALICE + "\n");
        assertEquals(1, Htpasswd.read(file).size());
    }
}
