package dev.regmirror.core.hosted;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.regmirror.core.blob.FileBlobStore;
import dev.regmirror.core.blob.ManifestStore;
import dev.regmirror.core.manifest.ManifestBytes;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.reference.RepositoryName;
import dev.regmirror.core.testing.MutableClock;
import dev.regmirror.core.upstream.Route;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Garbage collection of hosted blobs: what a manifest references stays, a fresh upload stays, the rest goes. */
class HostedGcTest {

    private static final Route APP = Route.hosted("local", new RepositoryName("lan/app"));
    private static final Route TOOL = Route.hosted("local", new RepositoryName("lan/tool"));
    private static final Duration GRACE = Duration.ofHours(1);

    @TempDir
    Path cache;

    private final MutableClock clock = new MutableClock();
    private FileBlobStore blobs;
    private ManifestStore manifests;
    private HostedStore hosted;
    private HostedGc gc;

    @BeforeEach
    void open() throws Exception {
        blobs = FileBlobStore.open(cache);
        manifests = new ManifestStore(blobs, blobs.layout());
        hosted = HostedStore.open(blobs.layout(), blobs.index(), clock);
        gc = new HostedGc(hosted, manifests, blobs.index(), "local", GRACE, clock);
    }

    @Test
    void keepsReferencedBlobsAndFreshUploadsAndReleasesTheRest() throws Exception {
        Digest config = blob(APP, "config");
        Digest layer = blob(APP, "layer");
        Digest orphan = blob(APP, "orphan");
        Digest manifest = manifest(APP, config, layer);
        clock.advance(GRACE.plusMinutes(1));
        Digest fresh = blob(APP, "fresh");

        HostedGc.Plan plan = gc.plan();

        assertEquals(List.of(new HostedGc.Link(APP, orphan)), plan.unlinked());
        assertEquals(Set.of(orphan), plan.released());
        gc.apply(plan);
        assertFalse(hosted.hasBlob(APP, orphan));
        assertFalse(blobs.index().retained(orphan), "released: the cache's prune may delete it now");
        for (Digest kept : List.of(config, layer, manifest, fresh)) {
            assertTrue(blobs.index().retained(kept), kept.toString());
        }
        assertTrue(hosted.hasBlob(APP, fresh), "within the upload timeout a manifest may still come");
    }

    @Test
    void aBlobAnotherRepositoryStillNeedsIsUnlinkedHereButNotReleased() throws Exception {
        Digest shared = blob(APP, "shared");
        hosted.linkBlob(TOOL, shared);
        Digest config = blob(TOOL, "tool-config");
        manifest(TOOL, config, shared);
        clock.advance(GRACE.plusMinutes(1));

        HostedGc.Plan plan = gc.plan();

        assertEquals(List.of(new HostedGc.Link(APP, shared)), plan.unlinked());
        assertEquals(Set.of(), plan.released());
        gc.apply(plan);
        assertTrue(blobs.index().retained(shared));
    }

    @Test
    void aDeletedManifestAndTheBlobsOnlyItReferencedAreReleased() throws Exception {
        Digest config = blob(APP, "config");
        Digest layer = blob(APP, "layer");
        Digest manifest = manifest(APP, config, layer);
        hosted.unlinkManifest(APP, manifest); // DELETE /v2/lan/app/manifests/<digest>
        clock.advance(GRACE.plusMinutes(1));

        HostedGc.Plan plan = gc.plan();

        assertEquals(Set.of(manifest, config, layer), plan.released());
    }

    @Test
    void aManifestThatCannotBeReadKeepsEveryBlobOfItsRepository() throws Exception {
        Digest layer = blob(APP, "layer");
        byte[] bytes = "{\"schemaVersion\":2,\"layers\":\"not a list\"}".getBytes(StandardCharsets.UTF_8);
        Digest odd = Digest.sha256Of(bytes);
        manifests.put(new ManifestBytes("application/vnd.oci.image.manifest.v1+json", odd, bytes));
        hosted.linkManifest(APP, odd);
        clock.advance(GRACE.plusMinutes(1));

        assertEquals(List.of(), gc.plan().unlinked(), "nothing collected on a guess: " + layer);
    }

    @Test
    void linkingAgainRenewsTheGracePeriod() throws Exception {
        Digest layer = blob(APP, "layer");
        clock.advance(GRACE.minusMinutes(1));
        hosted.linkBlob(APP, layer);
        clock.advance(Duration.ofMinutes(30));

        assertEquals(List.of(), gc.plan().unlinked(), "mounted again 30 minutes ago");
    }

    private Digest blob(Route route, String content) throws Exception {
        byte[] bytes = content.getBytes(StandardCharsets.UTF_8);
        Digest digest = Digest.sha256Of(bytes);
        blobs.put(digest, bytes);
        hosted.linkBlob(route, digest);
        return digest;
    }

    private Digest manifest(Route route, Digest config, Digest layer) throws Exception {
        byte[] bytes = ("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                + "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" + config
                + "\",\"size\":6},\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\""
                + layer + "\",\"size\":5}]}").getBytes(StandardCharsets.UTF_8);
        Digest digest = Digest.sha256Of(bytes);
        manifests.put(new ManifestBytes("application/vnd.oci.image.manifest.v1+json", digest, bytes));
        hosted.linkManifest(route, digest);
        return digest;
    }
}
