package dev.regmirror.core.client;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static dev.regmirror.core.client.Payloads.ALPINE;
import static dev.regmirror.core.client.Payloads.MANIFEST_DIGEST;
import static dev.regmirror.core.client.UpstreamFixture.await;
import static dev.regmirror.core.client.UpstreamFixture.failure;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.tomakehurst.wiremock.WireMockServer;
import dev.regmirror.core.error.UpstreamErrorException;
import dev.regmirror.core.manifest.MediaTypes;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.reference.Tag;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The referrers list: the upstream's API answer kept as sent, whether it applied the filter, and on
 * its 404 (distribution 2.8 has no such API) the tag schema's tag, or nothing.
 */
class HttpRegistryClientReferrersTest {

    private static final String REFERRERS_PATH = "/v2/library/alpine/referrers/" + MANIFEST_DIGEST;
    private static final String SCHEMA_TAG_PATH = "/v2/library/alpine/manifests/sha256-" + MANIFEST_DIGEST.hex();
    private static final String SBOM = "application/vnd.example.sbom.v1+json";
    private static final String LIST = """
            {"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[
            {"mediaType":"application/vnd.oci.image.manifest.v1+json","size":522,
            "digest":"sha256:1111111111111111111111111111111111111111111111111111111111111111",
            "artifactType":"application/vnd.example.sbom.v1+json"}]}""";

    private final UpstreamFixture fixture = new UpstreamFixture();
    private final WireMockServer upstream = fixture.upstream;
    private final HttpRegistryClient client = fixture.client();

    @AfterEach
    void close() {
        fixture.close();
    }

    @Test
    void referrersListIsKeptAsTheUpstreamSentIt() throws Exception {
        upstream.stubFor(get(urlEqualTo(REFERRERS_PATH)).willReturn(aResponse().withBody(LIST)
                .withHeader("Content-Type", MediaTypes.OCI_INDEX)));

        UpstreamReferrers.Listed listed = assertInstanceOf(UpstreamReferrers.Listed.class,
                await(client.listReferrers(ALPINE, MANIFEST_DIGEST, Optional.empty())));

        assertArrayEquals(LIST.getBytes(StandardCharsets.UTF_8), listed.index());
        assertEquals(MediaTypes.OCI_INDEX, listed.mediaType());
        assertFalse(listed.filtered());
        upstream.verify(1, getRequestedFor(urlEqualTo(REFERRERS_PATH))
                .withHeader("Accept", equalTo(MediaTypes.OCI_INDEX + ", application/json")));
    }

    @Test
    void artifactTypeIsSentAndOciFiltersAppliedSaysWhetherTheUpstreamFiltered() throws Exception {
        String filteredPath = REFERRERS_PATH + "?artifactType=application%2Fvnd.example.sbom.v1%2Bjson";
        upstream.stubFor(get(urlEqualTo(filteredPath)).willReturn(aResponse().withBody(LIST)
                .withHeader("Content-Type", MediaTypes.OCI_INDEX).withHeader("OCI-Filters-Applied", "artifactType")));

        UpstreamReferrers.Listed listed = assertInstanceOf(UpstreamReferrers.Listed.class,
                await(client.listReferrers(ALPINE, MANIFEST_DIGEST, Optional.of(SBOM))));

        assertTrue(listed.filtered());
        upstream.verify(1, getRequestedFor(urlEqualTo(filteredPath)));

        upstream.stubFor(get(urlEqualTo(filteredPath)).willReturn(aResponse().withBody(LIST)
                .withHeader("Content-Type", MediaTypes.OCI_INDEX)));

        assertFalse(assertInstanceOf(UpstreamReferrers.Listed.class,
                await(client.listReferrers(ALPINE, MANIFEST_DIGEST, Optional.of(SBOM)))).filtered());
    }

    @Test
    void withoutAReferrersApiTheTagSchemaTagIsRead() throws Exception {
        upstream.stubFor(get(urlPathEqualTo(REFERRERS_PATH)).willReturn(aResponse().withStatus(404)
                .withHeader("Content-Type", "text/plain; charset=utf-8").withBody("404 page not found\n")));
        upstream.stubFor(get(urlEqualTo(SCHEMA_TAG_PATH)).willReturn(aResponse().withBody(LIST)
                .withHeader("Content-Type", MediaTypes.OCI_INDEX)));

        UpstreamReferrers.Tagged tagged = assertInstanceOf(UpstreamReferrers.Tagged.class,
                await(client.listReferrers(ALPINE, MANIFEST_DIGEST, Optional.of(SBOM))));

        assertArrayEquals(LIST.getBytes(StandardCharsets.UTF_8), tagged.index().bytes());
        assertEquals(MediaTypes.OCI_INDEX, tagged.index().mediaType());
        upstream.verify(1, getRequestedFor(urlEqualTo(SCHEMA_TAG_PATH)));
    }

    @Test
    void withoutTheApiOrTheTagThereAreNone() throws Exception {
        upstream.stubFor(get(urlPathEqualTo(REFERRERS_PATH)).willReturn(aResponse().withStatus(404)));
        upstream.stubFor(get(urlEqualTo(SCHEMA_TAG_PATH)).willReturn(aResponse().withStatus(404)
                .withHeader("Content-Type", "application/json")
                .withBody("{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\",\"message\":\"manifest unknown\"}]}")));

        assertInstanceOf(UpstreamReferrers.None.class,
                await(client.listReferrers(ALPINE, MANIFEST_DIGEST, Optional.empty())));
    }

    @Test
    void aServerErrorIsAnErrorNeverAFallbackOrAnEmptyList() throws Exception {
        upstream.stubFor(get(urlPathEqualTo(REFERRERS_PATH)).willReturn(aResponse().withStatus(503)));

        UpstreamErrorException e = failure(client.listReferrers(ALPINE, MANIFEST_DIGEST, Optional.empty()),
                UpstreamErrorException.class);

        assertEquals(503, e.upstreamStatus());
        assertTrue(e.getMessage().startsWith("list referrers of " + MANIFEST_DIGEST.shortForm()
                + " in library/alpine from docker.io"), e.getMessage());
        upstream.verify(0, getRequestedFor(urlEqualTo(SCHEMA_TAG_PATH)));
    }

    @Test
    void aTagSchemaTagThatFailsIsAnErrorToo() throws Exception {
        upstream.stubFor(get(urlPathEqualTo(REFERRERS_PATH)).willReturn(aResponse().withStatus(404)));
        upstream.stubFor(get(urlEqualTo(SCHEMA_TAG_PATH)).willReturn(aResponse().withStatus(500)));

        assertEquals(500, failure(client.listReferrers(ALPINE, MANIFEST_DIGEST, Optional.empty()),
                UpstreamErrorException.class).upstreamStatus());
        upstream.verify(1, getRequestedFor(anyUrl()).withUrl(SCHEMA_TAG_PATH));
    }

    @Test
    void tagSchemaTagIsTheAlgorithmAndTheDigestCutTo64() {
        assertEquals(new Tag("sha256-" + MANIFEST_DIGEST.hex()), UpstreamReferrers.tagOf(MANIFEST_DIGEST));
        Digest sha512 = new Digest("sha512", "a".repeat(128));
        assertEquals(new Tag("sha512-" + "a".repeat(64)), UpstreamReferrers.tagOf(sha512));
    }
}
