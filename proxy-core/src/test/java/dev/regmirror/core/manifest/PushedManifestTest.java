package dev.regmirror.core.manifest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.regmirror.core.error.InvalidRequestException;
import dev.regmirror.core.error.RegistryErrorCode;
import dev.regmirror.core.reference.Digest;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/** Pushed manifests of every kind read generically: media type, references, subject, artifact type. */
class PushedManifestTest {

    static final String EMPTY = "application/vnd.oci.empty.v1+json";
    static final Digest EMPTY_DIGEST = Digest.parse(
            "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
    static final Digest A = Digest.sha256Of("a".getBytes(StandardCharsets.UTF_8));
    static final Digest B = Digest.sha256Of("b".getBytes(StandardCharsets.UTF_8));
    static final Digest C = Digest.sha256Of("c".getBytes(StandardCharsets.UTF_8));

    static String descriptor(String mediaType, Digest digest, long size) {
        return "{\"mediaType\":\"" + mediaType + "\",\"digest\":\"" + digest + "\",\"size\":" + size + "}";
    }

    /** A manifest, its Content-Type, and what must be read of it: media type, artifact type, blobs, children. */
    static Stream<Arguments> kinds() {
        return Stream.of(
                Arguments.of("OCI image manifest", "{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_MANIFEST
                                + "\",\"config\":" + descriptor("application/vnd.oci.image.config.v1+json", A, 1)
                                + ",\"layers\":[" + descriptor("application/vnd.oci.image.layer.v1.tar+gzip", B, 1) + "]}",
                        MediaTypes.OCI_MANIFEST, MediaTypes.OCI_MANIFEST, "application/vnd.oci.image.config.v1+json",
                        List.of(A, B), List.of()),
                Arguments.of("OCI image index", "{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_INDEX
                                + "\",\"manifests\":[" + descriptor(MediaTypes.OCI_MANIFEST, A, 10) + ","
                                + descriptor(MediaTypes.OCI_MANIFEST, B, 10) + "]}",
                        MediaTypes.OCI_INDEX, MediaTypes.OCI_INDEX, null, List.of(), List.of(A, B)),
                Arguments.of("Docker schema 2 manifest", "{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.DOCKER_MANIFEST
                                + "\",\"config\":" + descriptor("application/vnd.docker.container.image.v1+json", A, 1)
                                + ",\"layers\":[" + descriptor("application/vnd.docker.image.rootfs.diff.tar.gzip", B, 1)
                                + "," + descriptor("application/vnd.docker.image.rootfs.diff.tar.gzip", C, 1) + "]}",
                        MediaTypes.DOCKER_MANIFEST + "; charset=utf-8", MediaTypes.DOCKER_MANIFEST,
                        "application/vnd.docker.container.image.v1+json", List.of(A, B, C), List.of()),
                Arguments.of("Docker manifest list", "{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.DOCKER_MANIFEST_LIST
                                + "\",\"manifests\":[" + descriptor(MediaTypes.DOCKER_MANIFEST, C, 5) + "]}",
                        MediaTypes.DOCKER_MANIFEST_LIST, MediaTypes.DOCKER_MANIFEST_LIST, null, List.of(), List.of(C)),
                Arguments.of("Helm chart", "{\"schemaVersion\":2,\"config\":"
                                + descriptor("application/vnd.cncf.helm.config.v1+json", A, 117) + ",\"layers\":["
                                + descriptor("application/vnd.cncf.helm.chart.content.v1.tar+gzip", B, 3000) + "]}",
                        MediaTypes.OCI_MANIFEST, MediaTypes.OCI_MANIFEST, "application/vnd.cncf.helm.config.v1+json",
                        List.of(A, B), List.of()),
                Arguments.of("artifact with the empty config", "{\"schemaVersion\":2,\"mediaType\":\""
                                + MediaTypes.OCI_MANIFEST + "\",\"artifactType\":\"application/vnd.example.sbom.v1+json\","
                                + "\"config\":" + descriptor(EMPTY, EMPTY_DIGEST, 2) + ",\"layers\":["
                                + descriptor("application/spdx+json", C, 40) + "],\"subject\":"
                                + descriptor(MediaTypes.OCI_MANIFEST, A, 400)
                                + ",\"annotations\":{\"org.opencontainers.image.created\":\"2026-12-01T00:00:00Z\"}}",
                        MediaTypes.OCI_MANIFEST, MediaTypes.OCI_MANIFEST, "application/vnd.example.sbom.v1+json",
                        List.of(EMPTY_DIGEST, C), List.of()),
                Arguments.of("index without mediaType, sent without Content-Type", "{\"schemaVersion\":2,\"manifests\":[]}",
                        null, MediaTypes.OCI_INDEX, null, List.of(), List.of()),
                Arguments.of("a media type regmirror has never heard of", "{\"schemaVersion\":2,\"blobs\":[]}",
                        "application/vnd.example.thing.v1+json", "application/vnd.example.thing.v1+json", null,
                        List.of(), List.of()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kinds")
    void readsEveryKindOfManifestGenerically(String kind, String json, String contentType, String mediaType,
                                             String artifactType, List<Digest> blobs, List<Digest> children) {
        PushedManifest manifest = PushedManifest.parse(json.getBytes(StandardCharsets.UTF_8),
                Optional.ofNullable(contentType));

        assertEquals(mediaType, manifest.mediaType());
        assertEquals(Optional.ofNullable(artifactType), manifest.effectiveArtifactType());
        assertEquals(blobs, manifest.blobs().stream().map(Descriptor::digest).toList());
        assertEquals(children, manifest.manifests().stream().map(Descriptor::digest).toList());
    }

    @Test
    void anArtifactKeepsItsSubjectAndAnnotations() {
        PushedManifest manifest = PushedManifest.parse(kinds().filter(args -> args.get()[0].toString()
                .startsWith("artifact")).findFirst().orElseThrow().get()[1].toString().getBytes(StandardCharsets.UTF_8),
                Optional.of(MediaTypes.OCI_MANIFEST));

        assertEquals(Optional.of(A), manifest.subject().map(Descriptor::digest));
        assertEquals(Optional.of("application/vnd.example.sbom.v1+json"), manifest.artifactType());
        assertEquals(Optional.of(EMPTY), manifest.configMediaType());
        assertEquals(Map.of("org.opencontainers.image.created", "2026-12-01T00:00:00Z"), manifest.annotations());
    }

    /** What is refused, and the words that say why. */
    static Stream<Arguments> refusals() {
        String image = "{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",\"config\":"
                + descriptor("application/vnd.oci.image.config.v1+json", A, 1) + ",\"layers\":[]}";
        return Stream.of(
                Arguments.of("Content-Type is not the body's mediaType", image, MediaTypes.DOCKER_MANIFEST,
                        "is not its Content-Type"),
                Arguments.of("not JSON", "not json", MediaTypes.OCI_MANIFEST, "not JSON"),
                Arguments.of("a type browsers render", "{\"schemaVersion\":2,\"layers\":[]}", "text/html",
                        "application/<something>"),
                Arguments.of("a JSON array", "[]", MediaTypes.OCI_MANIFEST, "not a JSON object"),
                Arguments.of("no media type anywhere", "{\"schemaVersion\":2}", null, "no media type"),
                Arguments.of("schema 1", "{\"schemaVersion\":1,\"fsLayers\":[]}", MediaTypes.DOCKER_MANIFEST_V1_SIGNED,
                        "schema 1"),
                Arguments.of("an index without manifests", "{\"schemaVersion\":2}", MediaTypes.OCI_INDEX,
                        "needs a manifests list"),
                Arguments.of("an image manifest without config", "{\"schemaVersion\":2,\"layers\":[]}",
                        MediaTypes.OCI_MANIFEST, "needs a config"),
                Arguments.of("a layer without a size", "{\"schemaVersion\":2,\"config\":"
                        + descriptor("application/vnd.oci.image.config.v1+json", A, 1)
                        + ",\"layers\":[{\"mediaType\":\"x/y\",\"digest\":\"" + B + "\"}]}", MediaTypes.OCI_MANIFEST,
                        "layers[0] has no valid size"),
                Arguments.of("a malformed digest", "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x/y\","
                        + "\"digest\":\"sha256:abc\",\"size\":1}}", MediaTypes.OCI_MANIFEST, "config: invalid digest"),
                Arguments.of("annotations that are not strings", "{\"schemaVersion\":2,\"manifests\":[],"
                        + "\"annotations\":{\"a\":1}}", MediaTypes.OCI_INDEX, "annotation a is not a string"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("refusals")
    void refusesWhatIsNotAManifestAsManifestInvalid(String why, String json, String contentType, String message) {
        InvalidRequestException e = assertThrows(InvalidRequestException.class, () -> PushedManifest.parse(
                json.getBytes(StandardCharsets.UTF_8), Optional.ofNullable(contentType)));

        assertEquals(RegistryErrorCode.MANIFEST_INVALID, e.code());
        assertTrue(e.getMessage().contains(message), e.getMessage());
    }
}
