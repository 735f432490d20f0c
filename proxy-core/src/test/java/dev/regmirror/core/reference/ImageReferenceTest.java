package dev.regmirror.core.reference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.regmirror.core.error.InvalidRequestException;
import dev.regmirror.core.error.RegistryErrorCode;
import org.junit.jupiter.api.Test;

/** Images as people write them, split into the name to route and the tag or digest. */
class ImageReferenceTest {

    private static final String DIGEST = "sha256:" + "ab".repeat(32);

    @Test
    void aNameAloneIsLatest() {
        assertEquals(new ImageReference("alpine", new Tag("latest")), ImageReference.parse("alpine"));
    }

    @Test
    void theTagFollowsTheLastColonAfterTheLastSlash() {
        assertEquals(new ImageReference("ghcr.io/org/app", new Tag("1.2")), ImageReference.parse("ghcr.io/org/app:1.2"));
        assertEquals(new ImageReference("localhost:5000/app", new Tag("latest")), ImageReference.parse("localhost:5000/app"));
        assertEquals(new ImageReference("localhost:5000/app", new Tag("v1")), ImageReference.parse("localhost:5000/app:v1"));
    }

    @Test
    void aDigestWinsOverATag() {
        assertEquals(new ImageReference("alpine", Digest.parse(DIGEST)), ImageReference.parse("alpine@" + DIGEST));
        assertEquals(new ImageReference("alpine", Digest.parse(DIGEST)), ImageReference.parse("alpine:3.19@" + DIGEST));
        assertEquals("alpine@" + DIGEST, ImageReference.parse("alpine:3.19@" + DIGEST).toString());
    }

    @Test
    void badInputIsAClearRegistryError() {
        assertEquals(RegistryErrorCode.NAME_INVALID, code(""));
        assertEquals(RegistryErrorCode.NAME_INVALID, code(":1.0"));
        assertEquals(RegistryErrorCode.TAG_INVALID, code("alpine:bad!tag"));
        assertEquals(RegistryErrorCode.DIGEST_INVALID, code("alpine@sha256:short"));
    }

    private static RegistryErrorCode code(String image) {
        return assertThrows(InvalidRequestException.class, () -> ImageReference.parse(image), image).code();
    }
}
