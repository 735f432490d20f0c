package dev.regmirror.core.mirror;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.regmirror.core.blob.FileBlobStore;
import dev.regmirror.core.blob.ManifestStore;
import dev.regmirror.core.cache.RepositoryStore;
import dev.regmirror.core.cache.TagStore;
import dev.regmirror.core.client.ManifestHead;
import dev.regmirror.core.cluster.ManifestOwners;
import dev.regmirror.core.cluster.PeerManifest;
import dev.regmirror.core.error.RegistryErrorCode;
import dev.regmirror.core.error.UpstreamErrorException;
import dev.regmirror.core.error.UpstreamUnavailableException;
import dev.regmirror.core.manifest.AcceptNegotiation;
import dev.regmirror.core.manifest.ManifestBytes;
import dev.regmirror.core.manifest.MediaTypes;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.reference.Reference;
import dev.regmirror.core.reference.RepositoryName;
import dev.regmirror.core.reference.Tag;
import dev.regmirror.core.testing.MutableClock;
import dev.regmirror.core.testing.UnscriptedRegistryClient;
import dev.regmirror.core.upstream.Route;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tag windows, single-flight revalidation, stale answers and remembered misses, counted at the
 * upstream; in a cluster, tags another node owns asked of that owner instead.
 */
class PullThroughManifestsTest {

    private static final Route ROUTE = new Route("docker.io", new RepositoryName("library/alpine"));
    private static final Tag LATEST = new Tag("latest");
    private static final AcceptNegotiation ANY = AcceptNegotiation.of(List.of(MediaTypes.OCI_MANIFEST));
    private static final TagPolicy POLICY = new TagPolicy(Duration.ofMinutes(5), Duration.ofSeconds(15), 10);

    @TempDir
    Path dir;

    private final MutableClock clock = new MutableClock(Instant.parse("2026-11-22T12:00:00Z"));
    private final ScriptedUpstream upstream = new ScriptedUpstream();
    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private PullThroughManifests manifests;

    /** An upstream whose answers the test scripts, counting what it is asked. */
    static final class ScriptedUpstream extends UnscriptedRegistryClient {
        final Map<String, ManifestBytes> manifests = new java.util.HashMap<>();
        String latest;
        RuntimeException failure;
        OptionalLong remaining = OptionalLong.empty();
        CompletableFuture<Void> gate = CompletableFuture.completedFuture(null);
        final List<String> calls = new ArrayList<>();

        ManifestBytes publish(String content) {
            byte[] bytes = ("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",\"x\":\"" + content + "\"}")
                    .getBytes(StandardCharsets.UTF_8);
            ManifestBytes manifest = new ManifestBytes(MediaTypes.OCI_MANIFEST, Digest.sha256Of(bytes), bytes);
            manifests.put(manifest.digest().toString(), manifest);
            latest = manifest.digest().toString();
            return manifest;
        }

        @Override
        public synchronized CompletableFuture<ManifestHead> headManifest(RepositoryName name, Reference reference) {
            calls.add("HEAD " + reference);
            return gate.thenApply(ignored -> {
                if (failure != null) {
                    throw failure;
                }
                if (latest == null) {
                    throw notFound();
                }
                return new ManifestHead(Optional.of(Digest.parse(latest)), MediaTypes.OCI_MANIFEST, 1, remaining);
            });
        }

        @Override
        public synchronized CompletableFuture<ManifestBytes> getManifest(RepositoryName name, Reference reference) {
            calls.add("GET " + reference);
            if (failure != null) {
                return CompletableFuture.failedFuture(failure);
            }
            ManifestBytes manifest = manifests.get(reference.toString());
            return manifest == null ? CompletableFuture.failedFuture(notFound()) : CompletableFuture.completedFuture(manifest);
        }

        private static UpstreamErrorException notFound() {
            return new UpstreamErrorException(RegistryErrorCode.MANIFEST_UNKNOWN, "manifest unknown", null,
                    "docker.io", 404, Map.of());
        }
    }

    private FileBlobStore blobs;

    @BeforeEach
    void start() throws Exception {
        blobs = FileBlobStore.open(dir);
        manifests = build(blobs);
    }

    private PullThroughManifests build(FileBlobStore store) throws Exception {
        return new PullThroughManifests(new RegistryClients(List.of(upstream)), new ManifestStore(store, store.layout()),
                new TagStore(store.layout()), RepositoryStore.open(store.layout()), registry -> POLICY, Runnable::run,
                clock, meters);
    }

    private ManifestAnswer pull() throws Exception {
        return manifests.get(ROUTE, LATEST, ANY).get(5, TimeUnit.SECONDS);
    }

    private Throwable failureOf(CompletableFuture<?> future) throws Exception {
        try {
            future.get(5, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            return Futures.unwrap(e);
        }
        throw new AssertionError("expected a failure");
    }

    @Test
    void aTagWithinItsWindowIsAnsweredWithoutAskingTheUpstream() throws Exception {
        ManifestBytes v1 = upstream.publish("v1");
        assertEquals(v1.digest(), pull().manifest().digest());
        assertEquals(List.of("HEAD latest", "GET " + v1.digest()), upstream.calls);

        clock.advance(Duration.ofMinutes(4));
        assertEquals(v1.digest(), pull().manifest().digest());
        assertEquals(2, upstream.calls.size(), "no upstream request within the tag TTL");

        clock.advance(Duration.ofMinutes(2));
        ManifestBytes v2 = upstream.publish("v2");
        ManifestAnswer after = pull();
        assertEquals(v2.digest(), after.manifest().digest(), "after the TTL the tag is revalidated");
        assertEquals(List.of("HEAD latest", "GET " + v2.digest()), upstream.calls.subList(2, 4));
        assertTrue(after.staleBecause().isEmpty());
    }

    @Test
    void concurrentRequestsShareOneRevalidation() throws Exception {
        upstream.publish("v1");
        upstream.gate = new CompletableFuture<>();
        List<CompletableFuture<ManifestAnswer>> waiting = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            waiting.add(manifests.get(ROUTE, LATEST, ANY));
        }
        upstream.gate.complete(null);
        for (CompletableFuture<ManifestAnswer> answer : waiting) {
            answer.get(5, TimeUnit.SECONDS);
        }
        assertEquals(1, upstream.calls.stream().filter(c -> c.startsWith("HEAD")).count(), upstream.calls.toString());
        assertEquals(1, upstream.calls.stream().filter(c -> c.startsWith("GET")).count(), upstream.calls.toString());
    }

    @Test
    void aCachedTagIsServedStaleWhenTheUpstreamIsDownFailingOrRateLimited() throws Exception {
        ManifestBytes v1 = upstream.publish("v1");
        pull();
        List<RuntimeException> troubles = List.of(
                new UpstreamUnavailableException("docker.io", "connection refused", null),
                new UpstreamErrorException(RegistryErrorCode.UPSTREAM_ERROR, "upstream answered 503", null, "docker.io", 503, Map.of()),
                new UpstreamErrorException(RegistryErrorCode.TOOMANYREQUESTS, "too many requests", null, "docker.io", 429, Map.of()));
        for (RuntimeException trouble : troubles) {
            clock.advance(Duration.ofMinutes(6));
            upstream.failure = trouble;
            ManifestAnswer answer = pull();
            assertEquals(v1.digest(), answer.manifest().digest());
            assertEquals(Optional.of(trouble.getMessage()), answer.staleBecause());
        }
        assertEquals(3.0, meters.counter("regmirror.manifests.stale", "upstream", "docker.io").count());
    }

    @Test
    void withoutACachedTagTheUpstreamsTroubleReachesTheClient() throws Exception {
        upstream.failure = new UpstreamUnavailableException("docker.io", "connection refused", null);
        assertTrue(failureOf(manifests.get(ROUTE, LATEST, ANY)) instanceof UpstreamUnavailableException);
    }

    @Test
    void notFoundIsNeverAnsweredWithAStaleManifest() throws Exception {
        upstream.publish("v1");
        pull();
        clock.advance(Duration.ofMinutes(6));
        upstream.latest = null;
        Throwable failure = failureOf(manifests.get(ROUTE, LATEST, ANY));
        assertTrue(failure instanceof UpstreamErrorException e && e.isNotFound(), String.valueOf(failure));
    }

    @Test
    void nearlyUsedUpPullsServeTheCachedTagInsteadOfACountedGet() throws Exception {
        ManifestBytes v1 = upstream.publish("v1");
        pull();
        clock.advance(Duration.ofMinutes(6));
        upstream.publish("v2");
        upstream.remaining = OptionalLong.of(3);
        ManifestAnswer answer = pull();
        assertEquals(v1.digest(), answer.manifest().digest());
        assertTrue(answer.staleBecause().orElseThrow().contains("3 pulls left"), answer.staleBecause().toString());
        assertFalse(upstream.calls.subList(2, upstream.calls.size()).stream().anyMatch(c -> c.startsWith("GET")),
                upstream.calls.toString());
    }

    @Test
    void missesAreRememberedForTheNotFoundTtl() throws Exception {
        failureOf(manifests.get(ROUTE, LATEST, ANY));
        failureOf(manifests.get(ROUTE, LATEST, ANY));
        assertEquals(1, upstream.calls.size(), "the second miss came from memory: " + upstream.calls);
        clock.advance(Duration.ofSeconds(16));
        failureOf(manifests.get(ROUTE, LATEST, ANY));
        assertEquals(2, upstream.calls.size(), "after the not-found TTL the upstream is asked again");
    }

    @Test
    void aCachedDigestIsNeverAskedForAgain() throws Exception {
        ManifestBytes v1 = upstream.publish("v1");
        manifests.get(ROUTE, v1.digest(), ANY).get(5, TimeUnit.SECONDS);
        clock.advance(Duration.ofDays(365));
        upstream.failure = new UpstreamUnavailableException("docker.io", "down", null);
        ManifestAnswer answer = manifests.get(ROUTE, v1.digest(), ANY).get(5, TimeUnit.SECONDS);
        assertTrue(answer.staleBecause().isEmpty(), "digests are immutable: never stale");
        assertEquals(1, upstream.calls.size());
    }

    @Test
    void resolutionsSurviveARestart() throws Exception {
        ManifestBytes v1 = upstream.publish("v1");
        pull();
        blobs.close();
        manifests = build(FileBlobStore.open(dir));
        assertEquals(v1.digest(), pull().manifest().digest());
        assertEquals(2, upstream.calls.size(), "the restarted mirror knew the tag and its manifest");
    }

    @Test
    void aManifestReadOnceIsAnsweredFromMemoryUntilItLeavesTheCache() throws Exception {
        ManifestBytes v1 = upstream.publish("v1");
        java.util.concurrent.atomic.AtomicInteger diskTasks = new java.util.concurrent.atomic.AtomicInteger();
        PullThroughManifests remembering = new PullThroughManifests(new RegistryClients(List.of(upstream)),
                new ManifestStore(blobs, blobs.layout()), new TagStore(blobs.layout()), RepositoryStore.open(blobs.layout()),
                registry -> POLICY,
                task -> {
                    diskTasks.incrementAndGet();
                    task.run();
                }, clock, meters, HostedDigests.NONE, new RecentManifests(blobs.index(), 1 << 20));
        assertEquals(v1.digest(), remembering.get(ROUTE, LATEST, ANY).get(5, TimeUnit.SECONDS).manifest().digest());
        assertEquals(v1.digest(), remembering.get(ROUTE, v1.digest(), ANY).get(5, TimeUnit.SECONDS).manifest().digest());

        int before = diskTasks.get();
        ManifestAnswer byTag = remembering.get(ROUTE, LATEST, ANY).getNow(null);
        ManifestAnswer byDigest = remembering.get(ROUTE, v1.digest(), ANY).getNow(null);
        assertEquals(v1.digest(), byTag.manifest().digest(), "answered at once, by tag");
        assertEquals(v1.digest(), byDigest.manifest().digest(), "answered at once, by digest");
        assertEquals(before, diskTasks.get(), "no disk work for a manifest in memory");
        assertEquals(List.of("HEAD latest", "GET " + v1.digest()), upstream.calls);

        blobs.delete(v1.digest()); // evicted, purged or moved aside: out of the cache index
        assertEquals(v1.digest(), remembering.get(ROUTE, v1.digest(), ANY).get(5, TimeUnit.SECONDS).manifest().digest());
        assertEquals(List.of("HEAD latest", "GET " + v1.digest(), "GET " + v1.digest()), upstream.calls,
                "not served from memory once gone from the cache: fetched again");
    }

    /** Another node that owns every tag and digest: answers as scripted, storing what it answers in the shared store. */
    private static final class ScriptedOwner implements ManifestOwners {
        final List<String> asked = new ArrayList<>();
        final ManifestStore shared;
        volatile boolean elsewhere = true;
        CompletableFuture<Optional<PeerManifest>> answer = CompletableFuture.completedFuture(Optional.empty());

        ScriptedOwner(ManifestStore shared) {
            this.shared = shared;
        }

        @Override
        public boolean ownedElsewhere(Route route, Reference reference) {
            return elsewhere;
        }

        @Override
        public synchronized CompletableFuture<Optional<PeerManifest>> fetch(Route route, Reference reference) {
            asked.add(reference.toString());
            return answer.thenApply(owned -> {
                owned.ifPresent(manifest -> {
                    try {
                        shared.put(manifest.manifest());
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                });
                return owned;
            });
        }
    }

    @Test
    void underPullRulesADigestIsServedToTheNamesItIsLinkedToAndAskedOfTheUpstreamForOthers() throws Exception {
        PullThroughManifests linking = new PullThroughManifests(new RegistryClients(List.of(upstream)),
                new ManifestStore(blobs, blobs.layout()), new TagStore(blobs.layout()),
                RepositoryStore.open(blobs.layout()), registry -> POLICY, Runnable::run, clock, meters,
                HostedDigests.NONE, DigestLinks.enforced(100, meters), RecentManifests.none(), ManifestOwners.NONE);
        Digest digest = upstream.publish("one").digest();
        linking.get(ROUTE, LATEST, ANY).get(5, TimeUnit.SECONDS);
        upstream.calls.clear();
        assertEquals(digest, linking.get(ROUTE, digest, ANY).get(5, TimeUnit.SECONDS).manifest().digest());
        assertEquals(List.of(), upstream.calls, "the tag's answer linked its manifest to the name");

        Route team = new Route("docker.io", new RepositoryName("team/app"));
        assertEquals(digest, linking.get(team, digest, ANY).get(5, TimeUnit.SECONDS).manifest().digest());
        linking.get(team, digest, ANY).get(5, TimeUnit.SECONDS);
        assertEquals(List.of("HEAD " + digest), upstream.calls, "cached, not linked: confirmed once, then served");

        upstream.calls.clear();
        upstream.latest = null;
        Route other = new Route("docker.io", new RepositoryName("library/other"));
        Throwable refused = failureOf(linking.get(other, digest, ANY));
        assertTrue(refused instanceof UpstreamErrorException error && error.isNotFound(), refused.toString());
        failureOf(linking.get(other, digest, ANY));
        assertEquals(List.of("HEAD " + digest), upstream.calls, "the upstream's 404 is remembered as a fetch's is");
    }

    @Test
    void afterARestartWithTheUpstreamDownTheTagRecordsStandForLostLinksAndNothingElseDoes() throws Exception {
        ManifestBytes child = upstream.publish("arm64");
        byte[] indexBytes = ("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_INDEX + "\",\"manifests\":[{"
                + "\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",\"digest\":\"" + child.digest() + "\",\"size\":"
                + child.bytes().length + "}]}").getBytes(StandardCharsets.UTF_8);
        ManifestBytes index = new ManifestBytes(MediaTypes.OCI_INDEX, Digest.sha256Of(indexBytes), indexBytes);
        ManifestBytes untagged = upstream.publish("pulled by digest alone");
        ManifestStore store = new ManifestStore(blobs, blobs.layout());
        TagStore tags = new TagStore(blobs.layout());
        for (ManifestBytes cached : List.of(child, index, untagged)) {
            store.put(cached);
        }
        tags.put(ROUTE, LATEST, new TagStore.Resolution(index.digest(), clock.instant()));
        // A new instance: what a restart leaves, no link in memory; the upstream cannot answer.
        PullThroughManifests restarted = new PullThroughManifests(new RegistryClients(List.of(upstream)), store, tags,
                RepositoryStore.open(blobs.layout()), registry -> POLICY, Runnable::run, clock, meters,
                HostedDigests.NONE, DigestLinks.enforced(100, meters, new TagReach(tags, store, Runnable::run)),
                RecentManifests.none(), ManifestOwners.NONE);
        upstream.failure = new UpstreamUnavailableException("docker.io", "connection refused", null);
        AcceptNegotiation either = AcceptNegotiation.of(List.of(MediaTypes.OCI_INDEX, MediaTypes.OCI_MANIFEST));

        assertEquals(index.digest(), restarted.get(ROUTE, index.digest(), either).get(5, TimeUnit.SECONDS)
                .manifest().digest(), "the digest the tag resolved to");
        PullThroughManifests again = new PullThroughManifests(new RegistryClients(List.of(upstream)), store, tags,
                RepositoryStore.open(blobs.layout()), registry -> POLICY, Runnable::run, clock, meters,
                HostedDigests.NONE, DigestLinks.enforced(100, meters, new TagReach(tags, store, Runnable::run)),
                RecentManifests.none(), ManifestOwners.NONE);
        assertEquals(child.digest(), again.get(ROUTE, child.digest(), ANY).get(5, TimeUnit.SECONDS).manifest().digest(),
                "a platform's manifest of the tagged index, asked for by digest alone");
        assertTrue(failureOf(again.get(ROUTE, untagged.digest(), ANY)) instanceof UpstreamUnavailableException,
                "cached, but reached by no tag of the name: refused while the upstream cannot say");
        Route other = new Route("docker.io", new RepositoryName("library/other"));
        assertTrue(failureOf(again.get(other, child.digest(), ANY)) instanceof UpstreamUnavailableException,
                "another name's tags say nothing for this one");
    }

    private PullThroughManifests withOwner(ManifestOwners owner) throws Exception {
        return new PullThroughManifests(new RegistryClients(List.of(upstream)), new ManifestStore(blobs, blobs.layout()),
                new TagStore(blobs.layout()), RepositoryStore.open(blobs.layout()), registry -> POLICY, Runnable::run,
                clock, meters, HostedDigests.NONE, DigestLinks.OPEN, RecentManifests.none(), owner);
    }

    @Test
    void aTagAnotherNodeOwnsIsAskedOfItsOwnerAndKeptUntilTheOwnersResolutionIsOlderThanTheTtl() throws Exception {
        ManifestBytes v1 = upstream.publish("v1");
        ScriptedOwner owner = new ScriptedOwner(new ManifestStore(blobs, blobs.layout()));
        owner.answer = CompletableFuture.completedFuture(Optional.of(new PeerManifest(v1, Optional.empty(),
                Optional.of(clock.instant().minus(Duration.ofMinutes(4))))));
        manifests = withOwner(owner);
        assertEquals(v1.digest(), pull().manifest().digest());
        clock.advance(Duration.ofSeconds(30));
        assertEquals(v1.digest(), pull().manifest().digest());
        assertEquals(List.of("latest"), owner.asked, "within the owner's TTL: answered here");
        clock.advance(Duration.ofMinutes(1));
        assertEquals(v1.digest(), pull().manifest().digest());
        assertEquals(List.of("latest", "latest"), owner.asked, "5m30s after the owner resolved it: asked again");
        assertEquals(List.of(), upstream.calls, "only the owner asks the upstream");
        assertEquals(2.0, meters.counter("regmirror.manifest.requests", "upstream", "docker.io", "result", "peer").count());
    }

    @Test
    void anOwnerThatCannotBeAskedLeavesTheTagToThisNodesUpstream() throws Exception {
        ManifestBytes v1 = upstream.publish("v1");
        ScriptedOwner owner = new ScriptedOwner(new ManifestStore(blobs, blobs.layout()));
        manifests = withOwner(owner);
        assertEquals(v1.digest(), pull().manifest().digest());
        assertEquals(List.of("latest", v1.digest().toString()), owner.asked, "the tag's owner, then the digest's");
        assertEquals(List.of("HEAD latest", "GET " + v1.digest()), upstream.calls);
    }

    @Test
    void theOwnersNotFoundIsFinalAndRemembered() throws Exception {
        ScriptedOwner owner = new ScriptedOwner(new ManifestStore(blobs, blobs.layout()));
        owner.answer = CompletableFuture.failedFuture(new UpstreamErrorException(RegistryErrorCode.MANIFEST_UNKNOWN,
                "manifest unknown", null, "docker.io", 404, Map.of()));
        manifests = withOwner(owner);
        for (int i = 0; i < 2; i++) {
            Throwable failure = failureOf(manifests.get(ROUTE, LATEST, ANY));
            assertTrue(failure instanceof UpstreamErrorException error && error.isNotFound(), failure.toString());
        }
        assertEquals(List.of("latest"), owner.asked, "the miss is remembered for not-found-ttl");
        assertEquals(List.of(), upstream.calls);
    }

    @Test
    void aStaleAnswerOfTheOwnerIsServedStaleAndNotKept() throws Exception {
        ManifestBytes v1 = upstream.publish("v1");
        ScriptedOwner owner = new ScriptedOwner(new ManifestStore(blobs, blobs.layout()));
        owner.answer = CompletableFuture.completedFuture(Optional.of(new PeerManifest(v1,
                Optional.of("upstream answered 503"), Optional.empty())));
        manifests = withOwner(owner);
        assertEquals(Optional.of("upstream answered 503"), pull().staleBecause());
        assertEquals(Optional.of("upstream answered 503"), pull().staleBecause());
        assertEquals(List.of("latest", "latest"), owner.asked, "a stale answer starts no TTL");
        assertEquals(List.of(), upstream.calls);
    }

    @Test
    void aTagWhoseOwnerCannotBeAskedJoinsTheRevalidationRunningHere() throws Exception {
        ManifestBytes v1 = upstream.publish("v1");
        CompletableFuture<Void> gate = new CompletableFuture<>();
        upstream.gate = gate;
        ScriptedOwner owner = new ScriptedOwner(new ManifestStore(blobs, blobs.layout()));
        manifests = withOwner(owner);
        CompletableFuture<ManifestAnswer> whileOwnerGone = manifests.get(ROUTE, LATEST, ANY);
        owner.elsewhere = false; // the owner noticed down: this node owns the tag now
        CompletableFuture<ManifestAnswer> asOwner = manifests.get(ROUTE, LATEST, ANY);
        gate.complete(null);
        assertEquals(v1.digest(), whileOwnerGone.get(5, TimeUnit.SECONDS).manifest().digest());
        assertEquals(v1.digest(), asOwner.get(5, TimeUnit.SECONDS).manifest().digest());
        assertEquals(List.of("HEAD latest", "GET " + v1.digest()), upstream.calls, "one revalidation on this node");
    }
}
