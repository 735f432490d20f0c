package dev.regmirror.core.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Authorization headers as clients send them, and as they should not. */
class AuthorizationTest {

    private static String basic(String pair) {
        return "Basic " + Base64.getEncoder().encodeToString(pair.getBytes(StandardCharsets.UTF_8));
    }

    private static String malformedReason(String header) {
        return assertInstanceOf(Authorization.Malformed.class, Authorization.parse(header)).reason();
    }

    @Test
    void noHeaderIsAnonymous() {
        assertEquals(Authorization.NONE, Authorization.parse(null));
        assertEquals(Authorization.NONE, Authorization.parse(""));
        assertEquals(Authorization.NONE, Authorization.parse("  "));
    }

    @Test
    void basicCredentialsSplitAtTheFirstColon() {
        assertEquals(new Authorization.Basic(new BasicCredentials("alice", "pa:ss word")),
                Authorization.parse(basic("alice:pa:ss word")));
        assertEquals(new Authorization.Basic(new BasicCredentials("alice", "")), Authorization.parse(basic("alice:")));
        assertEquals(new Authorization.Basic(new BasicCredentials("jürgen", "пароль")),
                Authorization.parse(basic("jürgen:пароль")));
    }

    @Test
    void schemeIsCaseInsensitiveAndPaddingOptional() {
        String encoded = Base64.getEncoder().withoutPadding().encodeToString("bob:x".getBytes(StandardCharsets.UTF_8));
        assertEquals(new Authorization.Basic(new BasicCredentials("bob", "x")), Authorization.parse("bAsIc   " + encoded));
        assertEquals(new Authorization.Bearer("a.b.c"), Authorization.parse("bearer a.b.c"));
    }

    @Test
    void malformedBasicIsInvalidNeverAnException() {
        assertEquals("Basic credentials are one base64 value", malformedReason("Basic @@@"));
        assertEquals("Basic credentials are not valid base64", malformedReason("Basic YW-_Yg"));
        assertEquals("Basic credentials are not valid base64", malformedReason("Basic a"));
        assertEquals("Basic credentials are one base64 value", malformedReason("Basic"));
        assertEquals("Basic credentials are one base64 value", malformedReason("Basic YQ== YQ=="));
        assertEquals("Basic credentials hold no ':' between user name and password", malformedReason(basic("alice")));
        assertEquals("Basic credentials with an empty user name", malformedReason(basic(":secret")));
        assertEquals("Basic credentials are not UTF-8",
                malformedReason("Basic " + Base64.getEncoder().encodeToString(new byte[] {(byte) 0xff, ':', 'x'})));
        malformedReason(basic("al\nice:secret"));
        malformedReason("Basic " + "A".repeat(Authorization.MAX_LENGTH));
    }

    @Test
    void reasonsAndPrintingNeverShowThePasswordOrToken() {
        String reason = malformedReason(basic("\u0001:hunter2"));
        assertFalse(reason.contains("hunter2"), reason);
        Authorization basic = Authorization.parse(basic("alice:hunter2"));
        assertFalse(basic.toString().contains("hunter2"), basic.toString());
        Authorization bearer = Authorization.parse("Bearer secret-token");
        assertFalse(bearer.toString().contains("secret-token"), bearer.toString());
    }

    @Test
    void otherSchemesAndBrokenBearersAreMalformed() {
        assertEquals("unsupported authorization scheme \"Digest\" (Basic and Bearer are taken)",
                malformedReason("Digest username=\"a\""));
        assertEquals("an Authorization value that starts with neither Basic nor Bearer",
                malformedReason("eyJhbGciOiJFUzI1NiJ9.e30.c2ln"), "a bare token is never repeated");
        assertEquals("an Authorization value that starts with neither Basic nor Bearer",
                malformedReason("hunter2 and more"), "nor the first word of a bare password");
        assertEquals("a Bearer header holds one token", malformedReason("Bearer"));
        assertEquals("a Bearer header holds one token", malformedReason("Bearer a b"));
        assertEquals("a Bearer header holds one token", malformedReason("Bearer a\"b"));
    }

    @Test
    void randomHeadersNeverThrow() {
        SplittableRandom random = new SplittableRandom(10);
        for (int i = 0; i < 5000; i++) {
            char[] chars = new char[random.nextInt(40)];
            for (int j = 0; j < chars.length; j++) {
                chars[j] = (char) random.nextInt(0x20, 0x250);
            }
            String tail = new String(chars);
            Authorization.parse(tail);
            Authorization.parse("Basic " + tail);
            Authorization.parse("Basic " + Base64.getEncoder().encodeToString(tail.getBytes(StandardCharsets.UTF_8)));
            Authorization.parse("Bearer " + tail);
        }
    }
}
