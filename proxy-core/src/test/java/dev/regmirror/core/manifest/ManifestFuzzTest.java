package dev.regmirror.core.manifest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.regmirror.core.error.InvalidRequestException;
import dev.regmirror.core.error.RegistryErrorCode;
import dev.regmirror.core.reference.Digest;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * Fuzzes manifest parsing with any bytes an upstream or a pushing client could send, and any
 * {@code Content-Type} and {@code Accept}: {@link Manifests} never throws (unparsable bytes have no
 * type and no entries); {@link PushedManifest#parse} reads a manifest or refuses it as
 * MANIFEST_INVALID, and what it reads has a media type, the {@code Content-Type} when one was sent,
 * and descriptors with valid digests and sizes; {@link AcceptNegotiation} serves the manifest, serves
 * one of its own entries, or answers MANIFEST_UNKNOWN.
 *
 * <p>The input is {@code content-type\naccept\nbody}.
 */
class ManifestFuzzTest {

    @FuzzTest
    void anyManifestBytesParseOrAreRefusedAsInvalid(byte[] input) {
        int first = indexOf(input, 0);
        int second = first < 0 ? -1 : indexOf(input, first + 1);
        String contentType = first < 0 ? "" : new String(input, 0, first, StandardCharsets.UTF_8);
        String accept = second < 0 ? "" : new String(input, first + 1, second - first - 1, StandardCharsets.UTF_8);
        byte[] body = Arrays.copyOfRange(input, second < 0 ? 0 : second + 1, input.length);

        Optional<String> detected = Manifests.detectMediaType(body);
        detected.ifPresent(type -> assertFalse(type.isBlank()));
        List<Descriptor> entries = Manifests.indexEntries(body);
        Manifests.blobsOf(body).forEach(ManifestFuzzTest::assertDescribed);

        Optional<String> declared = contentType.isEmpty() ? Optional.empty() : Optional.of(contentType);
        try {
            PushedManifest pushed = PushedManifest.parse(body, declared);
            assertFalse(pushed.mediaType().isBlank());
            if (!MediaTypes.essence(contentType).isEmpty()) {
                assertEquals(MediaTypes.essence(contentType), pushed.mediaType());
            }
            pushed.blobs().forEach(ManifestFuzzTest::assertSized);
            pushed.manifests().forEach(ManifestFuzzTest::assertSized);
            pushed.subject().ifPresent(ManifestFuzzTest::assertSized);
            assertTrue(pushed.effectiveArtifactType().map(type -> !type.isBlank()).orElse(true));
        } catch (InvalidRequestException e) {
            assertEquals(RegistryErrorCode.MANIFEST_INVALID, e.code(), e.getMessage());
        }

        ManifestBytes manifest = new ManifestBytes(detected.orElse(MediaTypes.essence(contentType)),
                Digest.sha256Of(body), body);
        AcceptNegotiation negotiation = AcceptNegotiation.of(accept.isEmpty() ? List.of() : List.of(accept));
        for (boolean byTag : new boolean[] {true, false}) {
            try {
                AcceptNegotiation.Decision decision = negotiation.decide(manifest, byTag);
                if (decision instanceof AcceptNegotiation.Decision.Serve serve) {
                    assertSame(manifest, serve.manifest());
                } else if (decision instanceof AcceptNegotiation.Decision.ServeChild child) {
                    assertTrue(byTag, "a manifest asked for by digest is never swapped for another");
                    assertTrue(entries.stream().anyMatch(entry -> entry.digest().equals(child.digest())));
                }
            } catch (InvalidRequestException e) {
                assertEquals(RegistryErrorCode.MANIFEST_UNKNOWN, e.code(), e.getMessage());
            }
        }
    }

    private static void assertDescribed(Descriptor descriptor) {
        assertTrue(descriptor.digest() != null, descriptor.toString());
    }

    /** A pushed descriptor: the image spec requires its size. */
    private static void assertSized(Descriptor descriptor) {
        assertTrue(descriptor.digest() != null && descriptor.size() >= 0, descriptor.toString());
    }

    private static int indexOf(byte[] bytes, int from) {
        for (int i = from; i < bytes.length; i++) {
            if (bytes[i] == '\n') {
                return i;
            }
        }
        return -1;
    }
}
