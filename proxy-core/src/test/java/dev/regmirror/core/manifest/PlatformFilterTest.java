package dev.regmirror.core.manifest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.regmirror.core.error.InvalidRequestException;
import dev.regmirror.core.error.RegistryErrorCode;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Which index entries a prefetch's platforms take, and which platform strings are refused. */
class PlatformFilterTest {

    private static final Descriptor.Platform AMD64 = new Descriptor.Platform("linux", "amd64", null);
    private static final Descriptor.Platform ARM64 = new Descriptor.Platform("linux", "arm64", null);
    private static final Descriptor.Platform ARM64_V8 = new Descriptor.Platform("linux", "arm64", "v8");
    private static final Descriptor.Platform ARM_V7 = new Descriptor.Platform("linux", "arm", "v7");
    private static final Descriptor.Platform ARM_V6 = new Descriptor.Platform("linux", "arm", "v6");
    private static final Descriptor.Platform WINDOWS = new Descriptor.Platform("windows", "amd64", null);
    private static final Descriptor.Platform ATTESTATION = new Descriptor.Platform("unknown", "unknown", null);

    @Test
    void noPlatformsTakesEveryEntryEvenThoseWithoutAPlatform() {
        PlatformFilter all = PlatformFilter.parse(List.of());
        assertTrue(all.all());
        for (Descriptor.Platform p : List.of(AMD64, ARM_V7, WINDOWS, ATTESTATION)) {
            assertTrue(all.matches(p), p.toString());
        }
        assertTrue(all.matches(null));
    }

    @Test
    void osAndArchitectureMustBothMatch() {
        PlatformFilter amd64 = PlatformFilter.parse(List.of("linux/amd64"));
        assertTrue(amd64.matches(AMD64));
        assertFalse(amd64.matches(WINDOWS));
        assertFalse(amd64.matches(ARM64));
        assertFalse(amd64.matches(ATTESTATION));
        assertFalse(amd64.matches(null), "an entry naming no platform is not linux/amd64");
    }

    @Test
    void withoutAVariantEveryVariantMatchesWithOneOnlyThatOne() {
        assertTrue(PlatformFilter.parse(List.of("linux/arm")).matches(ARM_V7));
        assertTrue(PlatformFilter.parse(List.of("linux/arm")).matches(ARM_V6));
        assertTrue(PlatformFilter.parse(List.of("linux/arm/v7")).matches(ARM_V7));
        assertFalse(PlatformFilter.parse(List.of("linux/arm/v7")).matches(ARM_V6));
    }

    @Test
    void arm64WithoutAVariantIsV8() {
        assertTrue(PlatformFilter.parse(List.of("linux/arm64/v8")).matches(ARM64));
        assertTrue(PlatformFilter.parse(List.of("linux/arm64")).matches(ARM64_V8));
        assertFalse(PlatformFilter.parse(List.of("linux/arm64/v9")).matches(ARM64));
    }

    @Test
    void anyOfSeveralPlatformsMatches() {
        PlatformFilter two = PlatformFilter.parse(List.of("linux/amd64", "LINUX/ARM/v7"));
        assertTrue(two.matches(AMD64));
        assertTrue(two.matches(ARM_V7));
        assertFalse(two.matches(ARM64));
        assertEquals(List.of("linux/amd64", "linux/arm/v7"), two.names());
    }

    @Test
    void malformedPlatformsArePlatformInvalid() {
        for (String bad : new String[] {"linux", "linux/", "/amd64", "linux/arm/v7/extra", "linux amd64", "", "linux/a:b"}) {
            InvalidRequestException e = assertThrows(InvalidRequestException.class,
                    () -> PlatformFilter.parse(List.of(bad)), bad);
            assertEquals(RegistryErrorCode.PLATFORM_INVALID, e.code());
            assertEquals(400, e.status());
        }
    }
}
