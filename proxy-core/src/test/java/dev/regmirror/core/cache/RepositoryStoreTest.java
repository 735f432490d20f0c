package dev.regmirror.core.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.regmirror.core.reference.RepositoryName;
import dev.regmirror.core.storage.CacheLayout;
import dev.regmirror.core.storage.FileMetadataStore;
import dev.regmirror.core.storage.MetadataStore;
import dev.regmirror.core.upstream.Route;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The repository list follows the store: a reload (another node changed repositories) keeps what
 * this node added while the store was being listed, and drops what another node removed.
 */
class RepositoryStoreTest {

    private static final Route APP = new Route("docker.io", new RepositoryName("library/app"));
    private static final Route WEB = new Route("docker.io", new RepositoryName("team/web"));

    @TempDir
    Path dir;

    /** The store's metadata, running {@code duringList} once, after a listing was taken and before it returns. */
    private static final class SlowListing implements MetadataStore {

        private final MetadataStore store;
        private ThrowingRunnable duringList = () -> { };

        SlowListing(MetadataStore store) {
            this.store = store;
        }

        @Override
        public Optional<byte[]> read(String key) throws IOException {
            return store.read(key);
        }

        @Override
        public void write(String key, byte[] bytes) throws IOException {
            store.write(key, bytes);
        }

        @Override
        public void delete(String key) throws IOException {
            store.delete(key);
        }

        @Override
        public Optional<java.time.Instant> lastModified(String key) throws IOException {
            return store.lastModified(key);
        }

        @Override
        public List<String> list(String prefix) throws IOException {
            List<String> listed = store.list(prefix);
            ThrowingRunnable run = duringList;
            duringList = () -> { };
            run.run();
            return listed;
        }
    }

    private interface ThrowingRunnable {
        void run() throws IOException;
    }

    @Test
    void aRepositoryAddedWhileAReloadListsTheStoreStaysListed() throws Exception {
        CacheLayout layout = new CacheLayout(dir);
        SlowListing meta = new SlowListing(new FileMetadataStore(layout));
        RepositoryStore repositories = RepositoryStore.open(layout, meta);
        RepositoryStore otherNode = RepositoryStore.open(layout, new FileMetadataStore(layout));
        otherNode.add(WEB);
        meta.duringList = () -> repositories.add(APP);
        repositories.reload();
        assertEquals(List.of(APP.toString(), WEB.toString()), repositories.page(null, 10));
    }

    @Test
    void aRepositoryAnotherNodeRemovedGoesAtTheNextReload() throws Exception {
        CacheLayout layout = new CacheLayout(dir);
        RepositoryStore repositories = RepositoryStore.open(layout, new FileMetadataStore(layout));
        repositories.add(APP);
        repositories.add(WEB);
        RepositoryStore.open(layout, new FileMetadataStore(layout)).remove(WEB);
        repositories.reload();
        assertEquals(List.of(APP.toString()), repositories.page(null, 10));
    }
}
