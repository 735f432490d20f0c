package dev.regmirror.server;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.head;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.tomakehurst.wiremock.WireMockServer;
import dev.regmirror.core.manifest.MediaTypes;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.testing.BuiltImage;
import dev.regmirror.core.testing.RegistryProcess;
import dev.regmirror.core.testing.Skopeo;
import dev.regmirror.core.testing.TestImages;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Keeps serving when the upstream cannot: a tag that was ever cached is answered from the cache,
 * with a {@code Warning: 299}, when the upstream is gone, failing or rate-limiting.
 */
class StaleIT {

    private static final Map<String, Object> ALWAYS_REVALIDATE = Map.of("regmirror.upstream-defaults.tag-ttl", "0s");

    @TempDir
    Path work;

    @Test
    void aGoneUpstreamsTagsAreServedStaleAndStillPull() throws Exception {
        BuiltImage image = TestImages.singleArch(work.resolve("img"), "1", 2, 30_000, 31);
        RegistryProcess upstream = RegistryProcess.start();
        try (Skopeo skopeo = new Skopeo();
             MirrorFixture mirror = MirrorFixture.start(upstream.url(), work.resolve("cache"), ALWAYS_REVALIDATE)) {
            skopeo.copy(image.source(), "docker://" + upstream.hostPort() + "/library/app:1");
            skopeo.copyToDir("docker://" + mirror.hostPort() + "/app:1", work.resolve("first"));
            upstream.close();

            HttpResponse<byte[]> stale = mirror.get("/v2/app/manifests/1", "Accept", MediaTypes.OCI_MANIFEST);
            assertEquals(200, stale.statusCode());
            assertEquals(image.digest(), Digest.sha256Of(stale.body()));
            String warning = stale.headers().firstValue("Warning").orElse("");
            assertTrue(warning.startsWith("299 - \"regmirror: served from cache"), warning);
            assertTrue(warning.contains("docker.io"), warning);

            skopeo.copyToDir("docker://" + mirror.hostPort() + "/app:1", work.resolve("second"));
            String metrics = new String(mirror.get("/metrics").body(), StandardCharsets.UTF_8);
            assertTrue(metrics.contains("regmirror_manifests_stale_total{upstream=\"docker.io\"}"), metrics);
        } finally {
            upstream.close();
        }
    }

    @Test
    void failingAndRateLimitingUpstreamsAlsoGetStaleAnswers() throws Exception {
        byte[] manifest = ("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\"}").getBytes(StandardCharsets.UTF_8);
        Digest digest = Digest.sha256Of(manifest);
        WireMockServer upstream = new WireMockServer(options().dynamicPort().bindAddress("127.0.0.1"));
        upstream.start();
        try (MirrorFixture mirror = MirrorFixture.start(URI.create(upstream.baseUrl()), work.resolve("cache"),
                ALWAYS_REVALIDATE)) {
            upstream.stubFor(head(urlEqualTo("/v2/library/app/manifests/1")).willReturn(aResponse()
                    .withHeader("Content-Type", MediaTypes.OCI_MANIFEST).withHeader("Docker-Content-Digest", digest.toString())));
            upstream.stubFor(get(urlEqualTo("/v2/library/app/manifests/" + digest)).willReturn(aResponse()
                    .withHeader("Content-Type", MediaTypes.OCI_MANIFEST).withBody(manifest)));
            assertEquals(200, mirror.get("/v2/app/manifests/1", "Accept", MediaTypes.OCI_MANIFEST).statusCode());

            for (int status : new int[] {503, 429}) {
                upstream.stubFor(head(urlEqualTo("/v2/library/app/manifests/1")).willReturn(aResponse().withStatus(status)));
                HttpResponse<byte[]> stale = mirror.get("/v2/app/manifests/1", "Accept", MediaTypes.OCI_MANIFEST);
                assertEquals(200, stale.statusCode(), "upstream " + status);
                assertEquals(digest, Digest.sha256Of(stale.body()));
                assertTrue(stale.headers().firstValue("Warning").orElse("").startsWith("299 "), "upstream " + status);
            }
        } finally {
            upstream.stop();
        }
    }
}
