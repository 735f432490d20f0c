package dev.regmirror.core.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What every {@link MetadataStore} must do; each implementation's test extends this with a fresh store. */
public abstract class MetadataStoreContract {

    /** A store with nothing in it. */
    protected abstract MetadataStore store() throws IOException;

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void anAbsentKeyReadsEmpty() throws IOException {
        assertTrue(store().read("tags/docker.io/library/nginx/:latest").isEmpty());
    }

    @Test
    void whatIsWrittenIsReadBackAndReplacedWhole() throws IOException {
        MetadataStore store = store();
        store.write("tags/docker.io/library/nginx/:latest", bytes("sha256:aa 1"));
        assertArrayEquals(bytes("sha256:aa 1"), store.read("tags/docker.io/library/nginx/:latest").orElseThrow());
        store.write("tags/docker.io/library/nginx/:latest", bytes("sha256:bb 2"));
        assertArrayEquals(bytes("sha256:bb 2"), store.read("tags/docker.io/library/nginx/:latest").orElseThrow());
        store.write("pulls.json", new byte[0]);
        assertArrayEquals(new byte[0], store.read("pulls.json").orElseThrow());
    }

    @Test
    void anObjectKnowsWhenItWasWritten() throws IOException {
        MetadataStore store = store();
        assertTrue(store.lastModified("hosted/repositories/lan/app/_blobs/sha256/aa").isEmpty());
        java.time.Instant before = java.time.Instant.now().minusSeconds(60);
        store.write("hosted/repositories/lan/app/_blobs/sha256/aa", new byte[0]);
        java.time.Instant written = store.lastModified("hosted/repositories/lan/app/_blobs/sha256/aa").orElseThrow();
        assertTrue(written.isAfter(before) && written.isBefore(java.time.Instant.now().plusSeconds(60)), written.toString());
        store.delete("hosted/repositories/lan/app/_blobs/sha256/aa");
        assertTrue(store.lastModified("hosted/repositories/lan/app/_blobs/sha256/aa").isEmpty());
    }

    @Test
    void deletingRemovesAndDeletingNothingIsNoFailure() throws IOException {
        MetadataStore store = store();
        store.write("manifests/sha256/aa", bytes("application/vnd.oci.image.index.v1+json"));
        store.delete("manifests/sha256/aa");
        store.delete("manifests/sha256/aa");
        store.delete("manifests/sha256/never");
        assertTrue(store.read("manifests/sha256/aa").isEmpty());
        assertEquals(List.of(), store.list("manifests/"));
    }

    @Test
    void listingGivesTheKeysUnderAPrefixInOrder() throws IOException {
        MetadataStore store = store();
        for (String key : List.of("tags/docker.io/library/nginx/:latest", "tags/docker.io/library/nginx/:1.27",
                "tags/docker.io/library/nginx/sub/:x", "tags/docker.io/library/nginxs/:y", "tags/ghcr.io/a/:b",
                "repositories/docker.io/library/nginx/_cached")) {
            store.write(key, bytes(key));
        }
        assertEquals(List.of("tags/docker.io/library/nginx/:1.27", "tags/docker.io/library/nginx/:latest"),
                store.list("tags/docker.io/library/nginx/:"));
        assertEquals(List.of("tags/docker.io/library/nginx/:1.27", "tags/docker.io/library/nginx/:latest",
                "tags/docker.io/library/nginx/sub/:x", "tags/docker.io/library/nginxs/:y", "tags/ghcr.io/a/:b"),
                store.list("tags/"));
        assertEquals(List.of(), store.list("tags/quay.io/"));
        assertEquals(6, store.list("").size());
    }

    @Test
    void keysThatLeaveTheStoreAreRefused() throws IOException {
        MetadataStore store = store();
        for (String key : List.of("../outside", "tags/../../outside", "/etc/passwd", "tags//x", "tags/", "", "a\\b")) {
            assertThrows(IllegalArgumentException.class, () -> store.write(key, bytes("x")), key);
            assertThrows(IllegalArgumentException.class, () -> store.read(key), key);
        }
    }
}
