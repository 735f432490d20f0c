package dev.regmirror.core.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.reference.RepositoryName;
import dev.regmirror.core.storage.CacheLayout;
import dev.regmirror.core.upstream.Route;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Referrers lists kept per subject and filter, apart from nested names, and nothing half-written left behind. */
class ReferrerStoreTest {

    private static final Digest SUBJECT = Digest.sha256Of("subject".getBytes(StandardCharsets.UTF_8));
    private static final Route APP = new Route("docker.io", new RepositoryName("library/app"));
    private static final byte[] INDEX = "{\"manifests\":[]}\n".getBytes(StandardCharsets.UTF_8);

    @TempDir
    Path dir;

    private static ReferrerStore.Entry entry(byte[] index, boolean filtered) {
        return new ReferrerStore.Entry(index, "application/vnd.oci.image.index.v1+json", filtered,
                ReferrerStore.Source.FALLBACK, Instant.ofEpochMilli(1_795_360_219_106L));
    }

    @Test
    void aListIsReadBackAsWrittenWholeAndFilteredApart() throws Exception {
        ReferrerStore store = new ReferrerStore(new CacheLayout(dir));
        store.put(APP, SUBJECT, Optional.empty(), entry(INDEX, false));
        store.put(APP, SUBJECT, Optional.of("application/vnd.example"), entry("{}".getBytes(StandardCharsets.UTF_8), true));

        ReferrerStore.Entry whole = new ReferrerStore(new CacheLayout(dir)).get(APP, SUBJECT, Optional.empty()).orElseThrow();
        assertArrayEquals(INDEX, whole.index());
        assertFalse(whole.filtered());
        assertEquals(ReferrerStore.Source.FALLBACK, whole.source());
        assertEquals(Instant.ofEpochMilli(1_795_360_219_106L), whole.fetchedAt());
        assertTrue(store.get(APP, SUBJECT, Optional.of("application/vnd.example")).orElseThrow().filtered());
        assertTrue(store.get(APP, SUBJECT, Optional.of("application/vnd.other")).isEmpty());
        assertTrue(Files.isRegularFile(dir.resolve("referrers/docker.io/library/app/:sha256-" + SUBJECT.hex() + "/all")));
        try (Stream<Path> ingest = Files.list(new CacheLayout(dir).ingest())) {
            assertEquals(0, ingest.count(), "no temporary file left behind");
        }
    }

    @Test
    void aNestedRepositoryNamedLikeASubjectIsAnotherRepository() throws Exception {
        ReferrerStore store = new ReferrerStore(new CacheLayout(dir));
        Route nested = new Route("docker.io", new RepositoryName("library/app/sha256-" + SUBJECT.hex()));
        store.put(nested, SUBJECT, Optional.empty(), entry(INDEX, false));

        assertTrue(store.get(APP, SUBJECT, Optional.empty()).isEmpty());
    }

    @Test
    void anUnreadableFileIsAMiss() throws Exception {
        ReferrerStore store = new ReferrerStore(new CacheLayout(dir));
        store.put(APP, SUBJECT, Optional.empty(), entry(INDEX, false));
        Path file = dir.resolve("referrers/docker.io/library/app/:sha256-" + SUBJECT.hex() + "/all");
        Files.writeString(file, "garbage");

        assertTrue(store.get(APP, SUBJECT, Optional.empty()).isEmpty());
    }
}
