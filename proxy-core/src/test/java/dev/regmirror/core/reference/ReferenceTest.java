package dev.regmirror.core.reference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.regmirror.core.error.InvalidRequestException;
import dev.regmirror.core.error.RegistryErrorCode;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class ReferenceTest {

    private static final String HEX = "a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4";

    @Test
    void parsesTagsAndDigests() {
        assertEquals(new Tag("latest"), Reference.parse("latest"));
        assertEquals(new Tag("v1.2.3-rc_1"), Reference.parse("v1.2.3-rc_1"));
        Reference digest = Reference.parse("sha256:" + HEX);
        assertInstanceOf(Digest.class, digest);
        assertEquals("sha256:" + HEX, digest.toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", ".hidden", "-dash", "has space", "x/y", "..", "a\u0000b"})
    void rejectsInvalidTagsAsDigestInvalid(String value) {
        InvalidRequestException e = assertThrows(InvalidRequestException.class, () -> Reference.parse(value));
        assertEquals(RegistryErrorCode.DIGEST_INVALID, e.code());
        assertEquals(400, e.status());
    }

    @Test
    void rejectsTagsLongerThan128() {
        assertEquals(128, Reference.parse("a".repeat(128)).toString().length());
        assertThrows(InvalidRequestException.class, () -> Reference.parse("a".repeat(129)));
    }

    @ParameterizedTest
    @ValueSource(strings = {"sha256:abc", "sha256:" + "A3ED95CAEB02FFE68CDD9FD84406680AE93D633CB16422D00E8A7C22955B46D4",
            "md5:d41d8cd98f00b204e9800998ecf8427e", "sha256:../../etc/passwd", ":", "sha256:", "sha256:" + HEX + "0"})
    void rejectsMalformedDigests(String value) {
        InvalidRequestException e = assertThrows(InvalidRequestException.class, () -> Digest.parse(value));
        assertEquals(RegistryErrorCode.DIGEST_INVALID, e.code());
    }

    @Test
    void acceptsSha512() {
        Digest d = Digest.parse("sha512:" + "ab".repeat(64));
        assertEquals("sha512", d.algorithm());
    }

    @Test
    void computesAndVerifiesSha256() {
        byte[] bytes = "hello".getBytes(StandardCharsets.UTF_8);
        Digest d = Digest.sha256Of(bytes);
        assertEquals("sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824", d.toString());
        var hasher = d.newHasher();
        hasher.update(bytes);
        assertTrue(d.matches(hasher));
    }

    @Test
    void errorMessagesDoNotEchoControlCharacters() {
        InvalidRequestException e = assertThrows(InvalidRequestException.class,
                () -> Reference.parse("bad\r\nInjected: header"));
        assertTrue(!e.getMessage().contains("\n") && !e.getMessage().contains("\r"), e.getMessage());
    }
}
