package dev.regmirror.core.cache;

import dev.regmirror.core.storage.CacheLayout;
import dev.regmirror.core.storage.FileMetadataStore;
import dev.regmirror.core.storage.MetadataStore;
import dev.regmirror.core.upstream.Route;
import java.io.IOException;
import java.util.HashSet;
import java.util.List;
import java.util.NavigableSet;
import java.util.Set;
import java.util.concurrent.ConcurrentSkipListSet;

/**
 * The repositories whose manifests regmirror has cached, in the client's naming
 * ({@code docker.io/library/nginx}), for {@code /v2/_catalog}. Each is a marker file
 * {@code repositories/<registry>/<name>/_cached} (a repository component cannot start with
 * {@code _}, so markers never collide with nested names) in the cache's {@link MetadataStore},
 * read once at start and kept in memory. Storage I/O: call {@link #open}, {@link #add} and
 * {@link #remove} from a disk executor.
 */
public final class RepositoryStore {

    private static final byte[] MARKER = new byte[0];

    private final CacheLayout layout;
    private final MetadataStore meta;
    private final NavigableSet<String> names = new ConcurrentSkipListSet<>();

    private RepositoryStore(CacheLayout layout, MetadataStore meta) {
        this.layout = layout;
        this.meta = meta;
    }

    /** Opens the store in files under the cache directory and reads what it holds. */
    public static RepositoryStore open(CacheLayout layout) throws IOException {
        return open(layout, new FileMetadataStore(layout));
    }

    /** Opens the store in {@code meta}, under the layout's names, and reads what it holds. */
    public static RepositoryStore open(CacheLayout layout, MetadataStore meta) throws IOException {
        RepositoryStore store = new RepositoryStore(layout, meta);
        store.reload();
        return store;
    }

    /**
     * Reads the list again from the store: another node sharing it added or removed repositories.
     * Only names known before the listing began can be dropped: one {@link #add}ed while the store
     * was being listed (its marker written after the listing) stays.
     */
    public void reload() throws IOException {
        Set<String> before = new HashSet<>(names);
        Set<String> found = new HashSet<>();
        for (String key : meta.list(layout.key(layout.repositories()) + "/")) {
            layout.repositoryOf(layout.root().resolve(key)).ifPresent(found::add);
        }
        names.addAll(found);
        before.removeAll(found);
        names.removeAll(before);
    }

    /** Records that a manifest of this repository is cached; cheap when it already is. */
    public void add(Route route) throws IOException {
        String name = route.toString();
        if (names.contains(name)) {
            return;
        }
        String marker = layout.key(layout.repositoryMarker(route));
        if (meta.read(marker).isEmpty()) {
            meta.write(marker, MARKER);
        }
        names.add(name);
    }

    /** Takes the repository out of the list (a purge left it nothing); its marker file goes too. */
    public void remove(Route route) throws IOException {
        meta.delete(layout.key(layout.repositoryMarker(route)));
        names.remove(route.toString());
    }

    /** At most {@code n} names after {@code last} (exclusive) in lexical order, as the catalog pages them. */
    public List<String> page(String last, int n) {
        NavigableSet<String> after = last == null ? names : names.tailSet(last, false);
        return after.stream().limit(n).toList();
    }

    /** Whether any name follows {@code last}. */
    public boolean hasAfter(String last) {
        return last == null ? !names.isEmpty() : names.higher(last) != null;
    }
}
