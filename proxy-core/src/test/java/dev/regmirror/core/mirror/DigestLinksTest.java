package dev.regmirror.core.mirror;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.regmirror.core.error.RegistryErrorCode;
import dev.regmirror.core.error.UpstreamErrorException;
import dev.regmirror.core.error.UpstreamUnavailableException;
import dev.regmirror.core.manifest.ManifestBytes;
import dev.regmirror.core.manifest.MediaTypes;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.reference.RepositoryName;
import dev.regmirror.core.upstream.Route;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

class DigestLinksTest {

    private static final Route APP = new Route("docker.io", new RepositoryName("library/app"));
    private static final Route TEAM = new Route("docker.io", new RepositoryName("team/secret"));
    private static final Route OTHER_REGISTRY = new Route("ghcr.io", new RepositoryName("library/app"));
    private static final Digest LAYER = Digest.sha256Of("layer".getBytes(StandardCharsets.UTF_8));
    private static final Digest CONFIG = Digest.sha256Of("config".getBytes(StandardCharsets.UTF_8));

    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private final DigestLinks links = DigestLinks.enforced(1000, meters);
    private final AtomicInteger asked = new AtomicInteger();

    /** An upstream HEAD that answers {@code answer}, counting how often it is sent. */
    private Supplier<CompletableFuture<?>> head(CompletableFuture<?> answer) {
        return () -> {
            asked.incrementAndGet();
            return answer;
        };
    }

    private double checks(String outcome) {
        var counter = meters.find("regmirror.digest.link.checks").tags("upstream", "docker.io", "outcome", outcome)
                .counter();
        return counter == null ? 0 : counter.count();
    }

    @Test
    void withoutRulesEveryCachedDigestIsServedUnderEveryNameWithoutAsking() {
        assertTrue(DigestLinks.OPEN.linked(APP, LAYER));
        assertTrue(DigestLinks.OPEN.servable(APP, LAYER, head(CompletableFuture.failedFuture(notFound()))).isDone());
        assertFalse(DigestLinks.OPEN.servable(APP, LAYER, head(CompletableFuture.failedFuture(notFound())))
                .isCompletedExceptionally());
        assertEquals(0, asked.get());
    }

    @Test
    void anUnlinkedDigestIsServedOnceItsUpstreamConfirmsItAndThenWithoutAsking() {
        assertFalse(links.linked(APP, LAYER));
        CompletableFuture<Void> first = links.servable(APP, LAYER, head(CompletableFuture.completedFuture("200")));
        assertTrue(first.isDone() && !first.isCompletedExceptionally());
        assertTrue(links.linked(APP, LAYER));

        CompletableFuture<Void> again = links.servable(APP, LAYER, head(CompletableFuture.completedFuture("200")));
        assertTrue(again.isDone() && !again.isCompletedExceptionally());
        assertEquals(1, asked.get(), "a link answers without the upstream");
        assertEquals(1, checks("found"));
    }

    @Test
    void aLinkBelongsToItsRepositoryAndRegistryOnly() {
        links.link(TEAM, LAYER);
        assertTrue(links.linked(TEAM, LAYER));
        assertFalse(links.linked(APP, LAYER), "linked to team/secret says nothing of library/app");
        assertFalse(links.linked(OTHER_REGISTRY, LAYER));
        assertFalse(links.linked(TEAM, CONFIG));
    }

    @Test
    void theUpstreamsNotFoundIsTheAnswerAndLinksNothing() {
        UpstreamErrorException missing = notFound();
        CompletableFuture<Void> refused = links.servable(APP, LAYER, head(CompletableFuture.failedFuture(missing)));
        assertSame(missing, Futures.unwrap(refused.handle((ok, failure) -> failure).join()));
        assertFalse(links.linked(APP, LAYER));
        assertEquals(1, checks("not_found"));

        links.servable(APP, LAYER, head(CompletableFuture.failedFuture(missing)));
        assertEquals(2, asked.get(), "a refusal is not remembered here: the next request asks again");
    }

    @Test
    void anUnreachableUpstreamFailsClosed() {
        UpstreamUnavailableException down = new UpstreamUnavailableException("docker.io", "connection refused", null);
        CompletableFuture<Void> refused = links.servable(APP, LAYER, head(CompletableFuture.failedFuture(down)));
        assertSame(down, Futures.unwrap(refused.handle((ok, failure) -> failure).join()));
        assertFalse(links.linked(APP, LAYER));
        assertEquals(1, checks("failed"));
    }

    @Test
    void concurrentRequestsForOneUnlinkedDigestShareOneCheck() {
        CompletableFuture<String> answer = new CompletableFuture<>();
        CompletableFuture<Void> first = links.servable(APP, LAYER, head(answer));
        CompletableFuture<Void> second = links.servable(APP, LAYER, head(answer));
        assertFalse(first.isDone());
        answer.complete("200");
        assertTrue(first.isDone() && second.isDone() && !second.isCompletedExceptionally());
        assertEquals(1, asked.get());
    }

    @Test
    void aManifestServedForARepositoryLinksItselfAndWhatItNames() {
        String image = "{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\","
                + "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" + CONFIG
                + "\",\"size\":6},\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\","
                + "\"digest\":\"" + LAYER + "\",\"size\":5}]}";
        ManifestBytes manifest = manifest(MediaTypes.OCI_MANIFEST, image);
        String index = "{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_INDEX + "\",\"manifests\":[{"
                + "\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",\"digest\":\"" + manifest.digest() + "\",\"size\":"
                + image.length() + ",\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}}]}";
        ManifestBytes list = manifest(MediaTypes.OCI_INDEX, index);

        links.linkManifest(APP, list);
        assertTrue(links.linked(APP, list.digest()));
        assertFalse(links.linked(APP, manifest.digest()),
                "an index does not link its manifests: a registry with sparse indexes does not check them");
        links.link(APP, manifest.digest()); // the child's HEAD at the upstream, as the manifests path asks it
        assertFalse(links.linked(APP, LAYER), "not yet: the child was not served");

        links.linkManifest(APP, manifest);
        assertTrue(links.linked(APP, CONFIG));
        assertTrue(links.linked(APP, LAYER));
        assertFalse(links.linked(TEAM, LAYER));
    }

    @Test
    void aHostedRepositoryKeepsItsOwnLinks() {
        Route hosted = Route.hosted("local", new RepositoryName("lan/app"));
        assertTrue(links.linked(hosted, LAYER));
        assertTrue(links.servable(hosted, LAYER, head(CompletableFuture.failedFuture(notFound()))).isDone());
        assertEquals(0, asked.get());
    }

    @Test
    void aLayerTheUpstreamLetsAPusherNameWithoutHavingItIsNeverLinkedByTheManifest() {
        Digest foreign = Digest.sha256Of("foreign".getBytes(StandardCharsets.UTF_8));
        Digest secret = Digest.sha256Of("team/secret's layer".getBytes(StandardCharsets.UTF_8));
        // A manifest anyone may push to the upstream: distribution does not check that a layer with
        // urls, or a foreign one, is in the repository, so it may name another team's cached layer.
        links.linkManifest(APP, manifest(MediaTypes.OCI_MANIFEST, "{\"schemaVersion\":2,\"mediaType\":\""
                + MediaTypes.OCI_MANIFEST + "\",\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\","
                + "\"digest\":\"" + CONFIG + "\",\"size\":6},\"layers\":[{\"mediaType\":"
                + "\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"" + secret + "\",\"size\":9,"
                + "\"urls\":[\"https://example.com/x\"]},{\"mediaType\":"
                + "\"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip\",\"digest\":\"" + foreign + "\",\"size\":7},"
                + "{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"" + LAYER + "\",\"size\":5}]}"));
        assertTrue(links.linked(APP, CONFIG));
        assertTrue(links.linked(APP, LAYER), "a plain layer: the upstream checked the repository holds it");
        assertFalse(links.linked(APP, secret), "a layer with urls is named, not held");
        assertFalse(links.linked(APP, foreign), "nor a foreign one");
    }

    @Test
    void whenTheUpstreamCannotAnswerWhatTheNameReachedThroughItsTagsIsServedAndNothingElse() {
        Digest reachedLayer = Digest.sha256Of("reached".getBytes(StandardCharsets.UTF_8));
        AtomicInteger walks = new AtomicInteger();
        DigestLinks withFallback = DigestLinks.enforced(1000, meters, (route, digest) -> {
            walks.incrementAndGet();
            return CompletableFuture.completedFuture(route.equals(APP) && digest.equals(reachedLayer));
        });
        CompletableFuture<?> down = CompletableFuture.failedFuture(
                new UpstreamUnavailableException("docker.io", "connection refused", null));

        assertFalse(withFallback.servable(APP, reachedLayer, head(down)).isCompletedExceptionally());
        assertTrue(withFallback.linked(APP, reachedLayer), "linked now: the next request asks nothing");
        Throwable refused = withFallback.servable(APP, LAYER, head(down)).handle((ok, failure) -> failure).join();
        assertTrue(Futures.unwrap(refused) instanceof UpstreamUnavailableException, String.valueOf(refused));
        assertTrue(withFallback.servable(TEAM, reachedLayer, head(down)).isCompletedExceptionally(), "another name's tags");
        assertEquals(3, walks.get());

        assertTrue(withFallback.servable(APP, CONFIG, head(CompletableFuture.failedFuture(notFound())))
                .isCompletedExceptionally(), "the upstream's 404 is final");
        assertEquals(3, walks.get(), "and asks no fallback");
    }

    @Test
    void layerLinksEvictedWhileTheManifestsStaysComeBackWhenTheManifestIsServedAgain() {
        ManifestBytes image = manifest(MediaTypes.OCI_MANIFEST, "{\"schemaVersion\":2,\"mediaType\":\""
                + MediaTypes.OCI_MANIFEST + "\",\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\","
                + "\"digest\":\"" + CONFIG + "\",\"size\":6},\"layers\":[{\"mediaType\":"
                + "\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"" + LAYER + "\",\"size\":5}]}");
        links.linkManifest(APP, image);
        // The manifest is asked for on every pull, its layers once per client: the bound takes the
        // layers' links first.
        links.evict(APP, LAYER);
        links.evict(APP, CONFIG);
        assertTrue(links.linked(APP, image.digest()));
        assertFalse(links.linked(APP, LAYER));

        links.linkManifest(APP, image);
        assertTrue(links.linked(APP, LAYER), "served again, the manifest puts back what it named");
        assertTrue(links.linked(APP, CONFIG));
    }

    private static ManifestBytes manifest(String mediaType, String json) {
        byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
        return new ManifestBytes(mediaType, Digest.sha256Of(bytes), bytes);
    }

    private static UpstreamErrorException notFound() {
        return new UpstreamErrorException(RegistryErrorCode.BLOB_UNKNOWN, "blob unknown", null, "docker.io", 404,
                Map.of());
    }
}
