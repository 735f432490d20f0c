package dev.regmirror.core.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.reference.RepositoryName;
import dev.regmirror.core.reference.Tag;
import dev.regmirror.core.upstream.Route;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The cache's on-disk layout, spelled out: existing caches must keep opening, so none of these may change. */
class CacheLayoutTest {

    private static final Path ROOT = Path.of("/var/cache/regmirror");
    private static final CacheLayout LAYOUT = new CacheLayout(ROOT);
    private static final Digest DIGEST = Digest.sha256Of("content".getBytes(StandardCharsets.UTF_8));
    private static final Route APP = new Route("docker.io", new RepositoryName("library/app"));

    private static Path at(String relative) {
        return ROOT.resolve(relative);
    }

    @Test
    void namesEveryAreaWhereEarlierVersionsPutIt() {
        assertEquals(at(".lock"), LAYOUT.lockFile());
        assertEquals(at("blobs"), LAYOUT.blobs());
        assertEquals(at("ingest"), LAYOUT.ingest());
        assertEquals(at("bucket-uploads"), LAYOUT.bucketUploads());
        assertEquals(at("quarantine"), LAYOUT.quarantine());
        assertEquals(at("manifests"), LAYOUT.manifestTypes());
        assertEquals(at("tags"), LAYOUT.tags());
        assertEquals(at("referrers"), LAYOUT.referrers());
        assertEquals(at("repositories"), LAYOUT.repositories());
        assertEquals(at("pulls.json"), LAYOUT.pulls());
        assertEquals(at("hosted"), LAYOUT.hosted());
        assertEquals(at("hosted/repositories"), LAYOUT.hostedRepositories());
        assertEquals(at("hosted/uploads"), LAYOUT.hostedUploads());
    }

    @Test
    void namesEachItemWhereEarlierVersionsPutIt() {
        String hex = DIGEST.hex();
        assertEquals(at("blobs/sha256/" + hex.substring(0, 2) + "/" + hex), LAYOUT.blob(DIGEST));
        assertEquals(at("manifests/sha256/" + hex), LAYOUT.manifestType(DIGEST));
        assertEquals(at("quarantine/sha256/" + hex + "-20261203T083000.000Z"),
                LAYOUT.quarantined(DIGEST, Instant.parse("2026-12-03T08:30:00Z")));
        assertEquals(at("tags/docker.io/library/app/:1.0"), LAYOUT.tag(APP, new Tag("1.0")));
        assertEquals(at("tags/docker.io/library/app"), LAYOUT.tagDirectory(APP));
        assertEquals(at("referrers/docker.io/library/app/:sha256-" + hex + "/all"),
                LAYOUT.referrersList(APP, DIGEST, Optional.empty()));
        assertEquals(at("referrers/docker.io/library/app/:sha256-" + hex + "/type-"
                        + Digest.sha256Of("application/x".getBytes(StandardCharsets.UTF_8)).hex()),
                LAYOUT.referrersList(APP, DIGEST, Optional.of("application/x")));
        assertEquals(at("repositories/docker.io/library/app/_cached"), LAYOUT.repositoryMarker(APP));
        assertEquals(at("ingest"), LAYOUT.scratchFile("tag").getParent());
        assertTrue(LAYOUT.scratchFile("import", ".tar").getFileName().toString().matches("import-[0-9a-f-]{36}\\.tar"));
    }

    @Test
    void readsBackWhatItNames() {
        assertEquals(Optional.of(DIGEST), CacheLayout.blobDigest(LAYOUT.blobs().relativize(LAYOUT.blob(DIGEST))));
        assertEquals(Optional.empty(), CacheLayout.blobDigest(Path.of("sha256/ab")));
        assertEquals(Optional.empty(), CacheLayout.blobDigest(Path.of("sha256/ab/not-a-digest")));
        assertEquals("1.0", CacheLayout.tagOf(LAYOUT.tag(APP, new Tag("1.0"))));
        assertEquals(Optional.of("docker.io/library/app"), LAYOUT.repositoryOf(LAYOUT.repositoryMarker(APP)));
        assertEquals(Optional.empty(), LAYOUT.repositoryOf(LAYOUT.repositoryMarker(APP).getParent()));
    }

    @Test
    void namesHostedLinksWhereEarlierVersionsPutThemAndReadsThemBack() {
        Route lan = Route.hosted("local", new RepositoryName("lan/app"));
        String hex = DIGEST.hex();
        Digest other = Digest.sha256Of("other".getBytes(StandardCharsets.UTF_8));
        assertEquals(at("hosted/repositories/lan/app"), LAYOUT.hostedRepository(lan));
        assertEquals(at("hosted/repositories/lan/app/_tags/1.0"), LAYOUT.hostedTag(lan, new Tag("1.0")));
        assertEquals(at("hosted/repositories/lan/app/_manifests/sha256/" + hex),
                LAYOUT.hostedLink(lan, CacheLayout.HostedKind.MANIFESTS, DIGEST));
        assertEquals(at("hosted/repositories/lan/app/_blobs/sha256/" + hex),
                LAYOUT.hostedLink(lan, CacheLayout.HostedKind.BLOBS, DIGEST));
        assertEquals(at("hosted/repositories/lan/app/_referrers/sha256/" + hex + "/sha256/" + other.hex()),
                LAYOUT.hostedReferrer(lan, DIGEST, other));

        String area = LAYOUT.key(LAYOUT.hostedRepositories()) + "/";
        String blobKey = LAYOUT.key(LAYOUT.hostedLink(lan, CacheLayout.HostedKind.BLOBS, DIGEST));
        assertEquals(Optional.of(new CacheLayout.HostedEntry("lan/app", CacheLayout.HostedKind.BLOBS,
                java.util.List.of("sha256", hex))), CacheLayout.hostedEntry(blobKey.substring(area.length())));
        assertEquals(Optional.of(new CacheLayout.HostedEntry("lan/app", CacheLayout.HostedKind.TAGS,
                java.util.List.of("1.0"))), CacheLayout.hostedEntry("lan/app/_tags/1.0"));
        assertEquals(Optional.empty(), CacheLayout.hostedEntry("lan/app/_other/x"));
        assertEquals(Optional.empty(), CacheLayout.hostedEntry("_tags/1.0"));
        assertThrows(IllegalArgumentException.class, () -> LAYOUT.hostedRepository(APP));
    }

    @Test
    void aRelativeDirectoryIsMadeAbsolute() {
        assertEquals(Path.of("cache").toAbsolutePath().resolve("blobs"), new CacheLayout(Path.of("cache")).blobs());
    }
}
