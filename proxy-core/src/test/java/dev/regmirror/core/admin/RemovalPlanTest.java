package dev.regmirror.core.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.reference.RepositoryName;
import dev.regmirror.core.reference.Tag;
import dev.regmirror.core.upstream.Route;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The selection rules of purge and prune, on hand-made cache snapshots. */
class RemovalPlanTest {

    private static final Route APP = new Route("docker.io", new RepositoryName("library/app"));
    private static final Route WEB = new Route("docker.io", new RepositoryName("library/web"));
    private static final Route GHCR = new Route("ghcr.io", new RepositoryName("org/tool"));

    private static final Digest BASE = digest("base");
    private static final Digest APP_LAYER = digest("app-layer");
    private static final Digest APP_CONFIG = digest("app-config");
    private static final Digest APP_MANIFEST = digest("app-manifest");
    private static final Digest WEB_LAYER = digest("web-layer");
    private static final Digest WEB_CONFIG = digest("web-config");
    private static final Digest WEB_MANIFEST = digest("web-manifest");
    private static final Digest INDEX = digest("index");
    private static final Digest TOOL_LAYER = digest("tool-layer");
    private static final Digest TOOL_MANIFEST = digest("tool-manifest");
    private static final Digest LOOSE = digest("loose");
    private static final Digest UNTAGGED = digest("untagged");
    private static final Digest UNTAGGED_LAYER = digest("untagged-layer");

    /**
     * app:1 is an image of BASE and its own layer; web:1 an index whose one image shares BASE;
     * app:latest points to the same manifest as app:1; ghcr.io/org/tool:2 is an image of its own;
     * a loose blob and an untagged manifest with its own layer.
     */
    private static CacheSnapshot cache() {
        Map<Route, Map<Tag, Digest>> tags = new LinkedHashMap<>();
        tags.put(APP, Map.of(new Tag("1"), APP_MANIFEST, new Tag("latest"), APP_MANIFEST));
        tags.put(WEB, Map.of(new Tag("1"), INDEX));
        tags.put(GHCR, Map.of(new Tag("2"), TOOL_MANIFEST));
        Map<Digest, CacheSnapshot.References> manifests = new HashMap<>();
        manifests.put(APP_MANIFEST, new CacheSnapshot.References(List.of(), List.of(APP_CONFIG, BASE, APP_LAYER)));
        manifests.put(INDEX, new CacheSnapshot.References(List.of(WEB_MANIFEST), List.of()));
        manifests.put(WEB_MANIFEST, new CacheSnapshot.References(List.of(), List.of(WEB_CONFIG, BASE, WEB_LAYER)));
        manifests.put(TOOL_MANIFEST, new CacheSnapshot.References(List.of(), List.of(TOOL_LAYER)));
        manifests.put(UNTAGGED, new CacheSnapshot.References(List.of(), List.of(UNTAGGED_LAYER)));
        Map<Digest, Long> blobs = new HashMap<>();
        long size = 100;
        for (Digest digest : List.of(BASE, APP_LAYER, APP_CONFIG, APP_MANIFEST, WEB_LAYER, WEB_CONFIG, WEB_MANIFEST,
                INDEX, TOOL_LAYER, TOOL_MANIFEST, LOOSE, UNTAGGED, UNTAGGED_LAYER)) {
            blobs.put(digest, size++);
        }
        return new CacheSnapshot(Set.of(APP, WEB, GHCR), tags, manifests, blobs);
    }

    @Test
    void purgingOneOfTwoTagsOfAManifestOnlyForgetsTheTag() {
        RemovalPlan plan = RemovalPlan.purge(cache(), new PurgeSelection.OneTag(APP, new Tag("1"))).orElseThrow();
        assertEquals(List.of("docker.io/library/app:1"), strings(plan.tags()));
        assertEquals(List.of(), plan.manifests());
        assertEquals(List.of(), plan.blobs());
        assertEquals(List.of(), plan.repositories(), "app:latest is left");
        assertEquals(0, plan.bytesFreed());
    }

    @Test
    void purgingARepositoryKeepsTheBaseLayerAnotherImageUses() {
        RemovalPlan plan = RemovalPlan.purge(cache(), new PurgeSelection.Repository(APP)).orElseThrow();
        assertEquals(Set.of("docker.io/library/app:1", "docker.io/library/app:latest"), Set.copyOf(strings(plan.tags())));
        assertEquals(Set.of(APP_MANIFEST), digests(plan.manifests()));
        assertEquals(Set.of(APP_CONFIG, APP_LAYER), digests(plan.blobs()));
        assertEquals(Set.of(BASE), digests(plan.kept()));
        assertEquals(List.of(APP), plan.repositories());
        long expected = cache().blobs().get(APP_MANIFEST) + cache().blobs().get(APP_CONFIG) + cache().blobs().get(APP_LAYER);
        assertEquals(expected, plan.bytesFreed());
    }

    @Test
    void purgingAnIndexRemovesItsChildManifestsAndTheirOwnBlobs() {
        RemovalPlan plan = RemovalPlan.purge(cache(), new PurgeSelection.OneTag(WEB, new Tag("1"))).orElseThrow();
        assertEquals(Set.of(INDEX, WEB_MANIFEST), digests(plan.manifests()));
        assertEquals(Set.of(WEB_CONFIG, WEB_LAYER), digests(plan.blobs()));
        assertEquals(Set.of(BASE), digests(plan.kept()));
        assertEquals(List.of(WEB), plan.repositories(), "its only tag is gone");
    }

    @Test
    void purgingByDigestTakesTheTagsOfThatRepositoryPointingToIt() {
        RemovalPlan plan = RemovalPlan.purge(cache(), new PurgeSelection.OneManifest(APP, APP_MANIFEST)).orElseThrow();
        assertEquals(2, plan.tags().size());
        assertEquals(Set.of(APP_MANIFEST), digests(plan.manifests()));
        RemovalPlan untagged = RemovalPlan.purge(cache(), new PurgeSelection.OneManifest(APP, UNTAGGED)).orElseThrow();
        assertEquals(List.of(), untagged.tags());
        assertEquals(Set.of(UNTAGGED), digests(untagged.manifests()));
        assertEquals(Set.of(UNTAGGED_LAYER), digests(untagged.blobs()));
        assertEquals(List.of(), untagged.repositories(), "app keeps its tags");
    }

    @Test
    void withATagBesideTheDigestTheDigestDecidesAndATagPointingElsewhereMatchesNothing() {
        RemovalPlan both = RemovalPlan.purge(cache(), new PurgeSelection.OneManifest(APP, APP_MANIFEST,
                Optional.of(new Tag("1")))).orElseThrow();
        assertEquals(Set.of("docker.io/library/app:1", "docker.io/library/app:latest"), Set.copyOf(strings(both.tags())),
                "every tag pointing to the digest goes, not only the one named");
        assertEquals(Set.of(APP_MANIFEST), digests(both.manifests()));
        assertTrue(RemovalPlan.purge(cache(), new PurgeSelection.OneManifest(APP, UNTAGGED,
                Optional.of(new Tag("1")))).isEmpty(), "app:1 points to another manifest");
        assertTrue(RemovalPlan.purge(cache(), new PurgeSelection.OneManifest(APP, APP_MANIFEST,
                Optional.of(new Tag("2")))).isEmpty(), "app has no tag 2");
    }

    @Test
    void aManifestAnotherRepositorysTagPointsToStays() {
        Map<Route, Map<Tag, Digest>> tags = new HashMap<>(cache().tags());
        tags.put(GHCR, Map.of(new Tag("2"), TOOL_MANIFEST, new Tag("copy"), APP_MANIFEST));
        CacheSnapshot shared = new CacheSnapshot(cache().repositories(), tags, cache().manifests(), cache().blobs());
        RemovalPlan plan = RemovalPlan.purge(shared, new PurgeSelection.Repository(APP)).orElseThrow();
        assertEquals(List.of(), plan.manifests());
        assertEquals(List.of(), plan.blobs());
        assertEquals(List.of(APP), plan.repositories());
    }

    @Test
    void anUpstreamTakesOnlyItsRepositories() {
        RemovalPlan plan = RemovalPlan.purge(cache(), new PurgeSelection.Upstream("ghcr.io")).orElseThrow();
        assertEquals(List.of("ghcr.io/org/tool:2"), strings(plan.tags()));
        assertEquals(Set.of(TOOL_MANIFEST), digests(plan.manifests()));
        assertEquals(Set.of(TOOL_LAYER), digests(plan.blobs()));
        assertEquals(List.of(GHCR), plan.repositories());
        RemovalPlan none = RemovalPlan.purge(cache(), new PurgeSelection.Upstream("quay.io")).orElseThrow();
        assertEquals(0, none.bytesFreed(), "a registry with nothing cached matches, removing nothing");
    }

    @Test
    void everythingEmptiesTheCache() {
        CacheSnapshot cache = cache();
        RemovalPlan plan = RemovalPlan.purge(cache, new PurgeSelection.Everything()).orElseThrow();
        assertEquals(4, plan.tags().size());
        assertEquals(cache.manifests().keySet(), digests(plan.manifests()));
        assertEquals(cache.blobs().values().stream().mapToLong(Long::longValue).sum(), plan.bytesFreed());
        assertEquals(3, plan.repositories().size());
    }

    @Test
    void whatIsNotCachedMatchesNothing() {
        assertTrue(RemovalPlan.purge(cache(), new PurgeSelection.OneTag(APP, new Tag("2"))).isEmpty());
        assertTrue(RemovalPlan.purge(cache(), new PurgeSelection.OneManifest(APP, digest("other"))).isEmpty());
        assertTrue(RemovalPlan.purge(cache(), new PurgeSelection.Repository(
                new Route("docker.io", new RepositoryName("library/none")))).isEmpty());
    }

    @Test
    void pruneTakesUntaggedManifestsAndUnreferencedBlobsOnly() {
        RemovalPlan plan = RemovalPlan.prune(cache());
        assertEquals(List.of(), plan.tags());
        assertEquals(Set.of(UNTAGGED), digests(plan.manifests()));
        assertEquals(Set.of(UNTAGGED_LAYER, LOOSE), digests(plan.blobs()));
        assertEquals(List.of(), plan.repositories());
    }

    @Test
    void hostedContentSurvivesPurgeAndPrune() {
        CacheSnapshot cache = cache();
        CacheSnapshot hosting = new CacheSnapshot(cache.repositories(), cache.tags(), cache.manifests(), cache.blobs(),
                Set.of(UNTAGGED, UNTAGGED_LAYER, LOOSE, APP_LAYER));

        RemovalPlan pruned = RemovalPlan.prune(hosting);
        assertEquals(Set.of(), digests(pruned.manifests()), "a hosted manifest is no untagged cached one");
        assertEquals(Set.of(), digests(pruned.blobs()));

        RemovalPlan everything = RemovalPlan.purge(hosting, new PurgeSelection.Everything()).orElseThrow();
        assertFalse(digests(everything.manifests()).contains(UNTAGGED));
        assertFalse(digests(everything.blobs()).contains(APP_LAYER), "a layer a hosted image links stays");
        assertTrue(digests(everything.kept()).containsAll(Set.of(APP_LAYER, LOOSE, UNTAGGED_LAYER)));
        assertTrue(digests(everything.blobs()).contains(BASE), "what only cached images use still goes");

        RemovalPlan released = RemovalPlan.prune(hosting.released(Set.of(LOOSE)));
        assertEquals(Set.of(LOOSE), digests(released.blobs()), "released by garbage collection, pruned with the cache");
    }

    private static Digest digest(String seed) {
        return Digest.sha256Of(seed.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    private static Set<Digest> digests(List<RemovalPlan.Item> items) {
        return items.stream().map(RemovalPlan.Item::digest).collect(Collectors.toSet());
    }

    private static List<String> strings(List<?> values) {
        return values.stream().map(Object::toString).toList();
    }
}
