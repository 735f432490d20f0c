package dev.regmirror.core.manifest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.regmirror.core.error.InvalidRequestException;
import dev.regmirror.core.error.RegistryErrorCode;
import dev.regmirror.core.reference.Digest;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class AcceptNegotiationTest {

    private static final String AMD64 = "sha256:" + "1".repeat(64);
    private static final String ARM64 = "sha256:" + "2".repeat(64);

    private static ManifestBytes manifest(String mediaType, String json) {
        byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
        return new ManifestBytes(mediaType, Digest.sha256Of(bytes), bytes);
    }

    private static ManifestBytes list(String mediaType, String... digestsAndArchs) {
        StringBuilder entries = new StringBuilder();
        for (int i = 0; i < digestsAndArchs.length; i += 2) {
            if (i > 0) {
                entries.append(',');
            }
            entries.append("{\"mediaType\":\"").append(MediaTypes.DOCKER_MANIFEST).append("\",\"digest\":\"")
                    .append(digestsAndArchs[i]).append("\",\"size\":1,\"platform\":{\"os\":\"linux\",\"architecture\":\"")
                    .append(digestsAndArchs[i + 1]).append("\"}}");
        }
        return manifest(mediaType, "{\"schemaVersion\":2,\"mediaType\":\"" + mediaType + "\",\"manifests\":[" + entries + "]}");
    }

    @Test
    void servesWhatTheClientAccepts() {
        ManifestBytes oci = manifest(MediaTypes.OCI_MANIFEST, "{}");
        AcceptNegotiation accept = AcceptNegotiation.of(List.of(MediaTypes.OCI_MANIFEST + ", " + MediaTypes.DOCKER_MANIFEST));
        assertEquals(oci, ((AcceptNegotiation.Decision.Serve) accept.decide(oci, true)).manifest());
    }

    @Test
    void acceptValuesMaySpreadOverHeadersAndCarryParameters() {
        ManifestBytes index = manifest(MediaTypes.OCI_INDEX, "{}");
        AcceptNegotiation accept = AcceptNegotiation.of(List.of("application/json", MediaTypes.OCI_INDEX + ";q=0.5"));
        assertInstanceOf(AcceptNegotiation.Decision.Serve.class, accept.decide(index, false));
    }

    @Test
    void ociTypesNotAcceptedAreManifestUnknown() {
        AcceptNegotiation dockerOnly = AcceptNegotiation.of(List.of(MediaTypes.DOCKER_MANIFEST));
        InvalidRequestException e = assertThrows(InvalidRequestException.class,
                () -> dockerOnly.decide(manifest(MediaTypes.OCI_MANIFEST, "{}"), true));
        assertEquals(RegistryErrorCode.MANIFEST_UNKNOWN, e.code());
        assertThrows(InvalidRequestException.class, () -> dockerOnly.decide(manifest(MediaTypes.OCI_INDEX, "{}"), false));
    }

    @Test
    void dockerSchema2IsServedWhateverTheAccept() {
        ManifestBytes schema2 = manifest(MediaTypes.DOCKER_MANIFEST, "{}");
        assertInstanceOf(AcceptNegotiation.Decision.Serve.class, AcceptNegotiation.of(List.of()).decide(schema2, true));
    }

    @Test
    void manifestListByTagForAClientWithoutListsServesTheAmd64Manifest() {
        ManifestBytes list = list(MediaTypes.DOCKER_MANIFEST_LIST, ARM64, "arm64", AMD64, "amd64");
        AcceptNegotiation accept = AcceptNegotiation.of(List.of(MediaTypes.DOCKER_MANIFEST));
        AcceptNegotiation.Decision decision = accept.decide(list, true);
        assertEquals(Digest.parse(AMD64), ((AcceptNegotiation.Decision.ServeChild) decision).digest());
    }

    @Test
    void manifestListByDigestIsServedAsItIs() {
        ManifestBytes list = list(MediaTypes.DOCKER_MANIFEST_LIST, AMD64, "amd64");
        AcceptNegotiation accept = AcceptNegotiation.of(List.of(MediaTypes.DOCKER_MANIFEST));
        assertInstanceOf(AcceptNegotiation.Decision.Serve.class, accept.decide(list, false));
    }

    @Test
    void manifestListWithoutAmd64IsManifestUnknown() {
        ManifestBytes list = list(MediaTypes.DOCKER_MANIFEST_LIST, ARM64, "arm64");
        InvalidRequestException e = assertThrows(InvalidRequestException.class,
                () -> AcceptNegotiation.of(List.of(MediaTypes.DOCKER_MANIFEST)).decide(list, true));
        assertEquals(RegistryErrorCode.MANIFEST_UNKNOWN, e.code());
    }

    @Test
    void childSchema2ForAClientThatTakesNoSchema2IsManifestInvalid() {
        InvalidRequestException e = assertThrows(InvalidRequestException.class,
                () -> AcceptNegotiation.of(List.of("application/json")).checkChild(manifest(MediaTypes.DOCKER_MANIFEST, "{}")));
        assertEquals(RegistryErrorCode.MANIFEST_INVALID, e.code());
    }

    @Test
    void detectsMediaTypesFromTheBytes() {
        assertEquals(MediaTypes.OCI_INDEX, Manifests.detectMediaType("{\"schemaVersion\":2,\"manifests\":[]}"
                .getBytes(StandardCharsets.UTF_8)).orElseThrow());
        assertEquals(MediaTypes.OCI_MANIFEST, Manifests.detectMediaType("{\"schemaVersion\":2,\"config\":{},\"layers\":[]}"
                .getBytes(StandardCharsets.UTF_8)).orElseThrow());
        assertEquals(MediaTypes.DOCKER_MANIFEST, Manifests.detectMediaType(("{\"mediaType\":\"" + MediaTypes.DOCKER_MANIFEST
                + "\"}").getBytes(StandardCharsets.UTF_8)).orElseThrow());
        assertEquals(true, Manifests.detectMediaType("not json".getBytes(StandardCharsets.UTF_8)).isEmpty());
    }
}
