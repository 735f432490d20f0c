package dev.regmirror.core.mirror;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.regmirror.core.cache.ReferrerStore;
import dev.regmirror.core.client.UpstreamReferrers;
import dev.regmirror.core.error.RegistryErrorCode;
import dev.regmirror.core.error.UpstreamErrorException;
import dev.regmirror.core.error.UpstreamUnavailableException;
import dev.regmirror.core.manifest.ManifestBytes;
import dev.regmirror.core.manifest.MediaTypes;
import dev.regmirror.core.manifest.ReferrerIndexes;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.reference.RepositoryName;
import dev.regmirror.core.storage.CacheLayout;
import dev.regmirror.core.testing.MutableClock;
import dev.regmirror.core.testing.UnscriptedRegistryClient;
import dev.regmirror.core.upstream.Route;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The referrers' tag window, stale answers, the tag schema and local filtering, counted at the upstream. */
class PullThroughReferrersTest {

    private static final Route ROUTE = new Route("docker.io", new RepositoryName("library/alpine"));
    private static final Digest SUBJECT = Digest.sha256Of("subject".getBytes(StandardCharsets.UTF_8));
    private static final TagPolicy POLICY = new TagPolicy(Duration.ofMinutes(5), Duration.ofSeconds(15), 10);
    private static final String SBOM = "application/vnd.example.sbom.v1+json";
    private static final String INDEX = """
            {"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[
            {"mediaType":"application/vnd.oci.image.manifest.v1+json","size":1,
             "digest":"sha256:1111111111111111111111111111111111111111111111111111111111111111",
             "artifactType":"application/vnd.example.sbom.v1+json"},
            {"mediaType":"application/vnd.oci.image.manifest.v1+json","size":2,
             "digest":"sha256:2222222222222222222222222222222222222222222222222222222222222222",
             "artifactType":"application/vnd.example.signature"}]}""";
    private static final ObjectMapper MAPPER = new ObjectMapper();

    @TempDir
    Path dir;

    private final MutableClock clock = new MutableClock(Instant.parse("2026-11-22T12:00:00Z"));
    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private final ScriptedUpstream upstream = new ScriptedUpstream();
    private PullThroughReferrers referrers;

    /** An upstream whose one answer the test scripts, counting what it is asked. */
    private static final class ScriptedUpstream extends UnscriptedRegistryClient {

        final List<Optional<String>> calls = new ArrayList<>();
        Supplier<CompletableFuture<UpstreamReferrers>> answer;

        @Override
        public CompletableFuture<UpstreamReferrers> listReferrers(RepositoryName name, Digest subject,
                                                                  Optional<String> artifactType) {
            calls.add(artifactType);
            return answer.get();
        }
    }

    @BeforeEach
    void open() throws Exception {
        referrers = new PullThroughReferrers(new RegistryClients(List.of(upstream)), new ReferrerStore(new CacheLayout(dir)),
                registry -> POLICY, Runnable::run, clock, meters);
    }

    private ReferrersAnswer list(Optional<String> artifactType) throws Exception {
        return referrers.list(ROUTE, SUBJECT, artifactType).get(5, TimeUnit.SECONDS);
    }

    private void answering(UpstreamReferrers answer) {
        upstream.answer = () -> CompletableFuture.completedFuture(answer);
    }

    private void failingWith(RuntimeException failure) {
        upstream.answer = () -> CompletableFuture.failedFuture(failure);
    }

    private double counted(String result) {
        var counter = meters.find("regmirror.referrers.requests").tags("upstream", "docker.io", "result", result).counter();
        return counter == null ? 0 : counter.count();
    }

    private static List<String> digestsOf(ReferrersAnswer answer) throws Exception {
        List<String> digests = new ArrayList<>();
        for (JsonNode descriptor : MAPPER.readTree(answer.index()).get("manifests")) {
            digests.add(descriptor.get("digest").asText().substring(7, 8));
        }
        return digests;
    }

    private static UpstreamReferrers.Listed listed(boolean filtered) {
        return new UpstreamReferrers.Listed(INDEX.getBytes(StandardCharsets.UTF_8), MediaTypes.OCI_INDEX, filtered);
    }

    @Test
    void withinTheWindowTheListIsAnsweredFromTheCacheAndAfterItAskedAgain() throws Exception {
        answering(listed(false));

        ReferrersAnswer first = list(Optional.empty());
        clock.advance(Duration.ofMinutes(4));
        ReferrersAnswer second = list(Optional.empty());

        assertEquals(INDEX, new String(second.index(), StandardCharsets.UTF_8));
        assertEquals(MediaTypes.OCI_INDEX, second.mediaType());
        assertEquals(List.of("1", "2"), digestsOf(first));
        assertEquals(1, upstream.calls.size());
        assertEquals(1, counted("upstream"));
        assertEquals(1, counted("cached"));

        clock.advance(Duration.ofMinutes(2));
        list(Optional.empty());

        assertEquals(2, upstream.calls.size());
    }

    @Test
    void theWindowSurvivesARestart() throws Exception {
        answering(listed(false));
        list(Optional.empty());

        open();
        list(Optional.empty());

        assertEquals(1, upstream.calls.size());
    }

    @Test
    void anUpstreamThatCannotAnswerAfterTheWindowGetsTheLastListServedStale() throws Exception {
        answering(listed(false));
        list(Optional.empty());
        clock.advance(Duration.ofMinutes(6));
        failingWith(new UpstreamUnavailableException("docker.io", "list referrers: connection refused", null));

        ReferrersAnswer stale = list(Optional.empty());

        assertEquals(INDEX, new String(stale.index(), StandardCharsets.UTF_8));
        assertEquals(Optional.of("list referrers: connection refused"), stale.staleBecause());
        assertEquals(1, counted("stale"));

        failingWith(new UpstreamErrorException(RegistryErrorCode.UPSTREAM_ERROR, "answered 502", null, "docker.io",
                502, Map.of()));
        assertTrue(list(Optional.empty()).staleBecause().isPresent());
    }

    @Test
    void withNothingCachedOrAnErrorThatIsNotTroubleTheErrorIsTheAnswer() throws Exception {
        failingWith(new UpstreamUnavailableException("docker.io", "connection refused", null));
        assertInstanceOf(UpstreamUnavailableException.class, failureOf(Optional.empty()));

        answering(listed(false));
        list(Optional.empty());
        clock.advance(Duration.ofMinutes(6));
        failingWith(new UpstreamErrorException(RegistryErrorCode.DENIED, "denied", null, "docker.io", 403, Map.of()));
        assertInstanceOf(UpstreamErrorException.class, failureOf(Optional.empty()));
        assertEquals(0, counted("stale"));
    }

    private Throwable failureOf(Optional<String> artifactType) throws Exception {
        try {
            list(artifactType);
        } catch (ExecutionException e) {
            return Futures.unwrap(e);
        }
        throw new AssertionError("expected a failure");
    }

    @Test
    void aFilterTheUpstreamAppliedIsKeptAsSentOneItIgnoredIsAppliedHere() throws Exception {
        answering(listed(true));
        ReferrersAnswer kept = list(Optional.of(SBOM));
        assertTrue(kept.filtered());
        assertEquals(INDEX, new String(kept.index(), StandardCharsets.UTF_8));

        Digest other = Digest.sha256Of("other".getBytes(StandardCharsets.UTF_8));
        answering(listed(false));
        ReferrersAnswer applied = referrers.list(ROUTE, other, Optional.of(SBOM)).get(5, TimeUnit.SECONDS);
        assertTrue(applied.filtered());
        assertEquals(List.of("1"), digestsOf(applied));
        assertEquals(List.of(Optional.of(SBOM), Optional.of(SBOM)), upstream.calls);
    }

    @Test
    void filteredAndWholeListsAreCachedApart() throws Exception {
        answering(listed(false));
        list(Optional.of(SBOM));
        ReferrersAnswer whole = list(Optional.empty());

        assertFalse(whole.filtered());
        assertEquals(List.of("1", "2"), digestsOf(whole));
        assertEquals(2, upstream.calls.size());
    }

    @Test
    void theTagSchemaIndexIsTheListFilteredHere() throws Exception {
        byte[] bytes = INDEX.getBytes(StandardCharsets.UTF_8);
        answering(new UpstreamReferrers.Tagged(new ManifestBytes(MediaTypes.OCI_INDEX, Digest.sha256Of(bytes), bytes)));

        ReferrersAnswer filtered = list(Optional.of("application/vnd.example.signature"));

        assertTrue(filtered.filtered());
        assertEquals(List.of("2"), digestsOf(filtered));
        assertEquals(MediaTypes.OCI_INDEX, filtered.mediaType());
        assertEquals(1, counted("fallback"));
    }

    @Test
    void withNeitherTheListIsTheEmptyIndex() throws Exception {
        answering(new UpstreamReferrers.None());

        ReferrersAnswer empty = list(Optional.empty());

        assertEquals(ReferrerIndexes.EMPTY_JSON, new String(empty.index(), StandardCharsets.UTF_8));
        assertFalse(empty.filtered());
        assertEquals(1, counted("empty"));
    }

    @Test
    void concurrentRequestsAfterTheWindowShareOneUpstreamRequest() throws Exception {
        CompletableFuture<UpstreamReferrers> pending = new CompletableFuture<>();
        upstream.answer = () -> pending;

        CompletableFuture<ReferrersAnswer> one = referrers.list(ROUTE, SUBJECT, Optional.empty());
        CompletableFuture<ReferrersAnswer> two = referrers.list(ROUTE, SUBJECT, Optional.empty());
        pending.complete(listed(false));

        assertEquals(INDEX, new String(one.get(5, TimeUnit.SECONDS).index(), StandardCharsets.UTF_8));
        assertEquals(INDEX, new String(two.get(5, TimeUnit.SECONDS).index(), StandardCharsets.UTF_8));
        assertEquals(1, upstream.calls.size());
    }

    @Test
    void underPullRulesTheManifestsAListServedForANameNamesAreLinkedToItStaleListsToo() throws Exception {
        DigestLinks links = DigestLinks.enforced(100, meters);
        ReferrerStore store = new ReferrerStore(new CacheLayout(dir));
        PullThroughReferrers linking = new PullThroughReferrers(new RegistryClients(List.of(upstream)), store,
                registry -> POLICY, Runnable::run, clock, meters, links);
        Digest sbom = Digest.parse("sha256:" + "1".repeat(64));
        Digest signature = Digest.parse("sha256:" + "2".repeat(64));
        answering(listed(false));
        linking.list(ROUTE, SUBJECT, Optional.empty()).get(5, TimeUnit.SECONDS);
        assertTrue(links.linked(ROUTE, sbom));
        assertTrue(links.linked(ROUTE, signature));
        assertFalse(links.linked(new Route("docker.io", new RepositoryName("library/other")), signature));

        // After a restart (no links), with the upstream down: the stale list links what it names.
        DigestLinks restarted = DigestLinks.enforced(100, meters);
        PullThroughReferrers again = new PullThroughReferrers(new RegistryClients(List.of(upstream)), store,
                registry -> POLICY, Runnable::run, clock, meters, restarted);
        clock.advance(Duration.ofMinutes(10));
        failingWith(new UpstreamUnavailableException("docker.io", "connection refused", null));
        assertTrue(again.list(ROUTE, SUBJECT, Optional.empty()).get(5, TimeUnit.SECONDS).staleBecause().isPresent());
        assertTrue(restarted.linked(ROUTE, signature));

        // A tag-schema index is a pusher's: a registry with sparse indexes does not check what it lists.
        DigestLinks fallback = DigestLinks.enforced(100, meters);
        Route other = new Route("docker.io", new RepositoryName("library/tagged"));
        byte[] bytes = INDEX.getBytes(StandardCharsets.UTF_8);
        answering(new UpstreamReferrers.Tagged(new ManifestBytes(MediaTypes.OCI_INDEX, Digest.sha256Of(bytes), bytes)));
        new PullThroughReferrers(new RegistryClients(List.of(upstream)), store, registry -> POLICY, Runnable::run, clock,
                meters, fallback).list(other, SUBJECT, Optional.empty()).get(5, TimeUnit.SECONDS);
        assertFalse(fallback.linked(other, signature));
    }
}
