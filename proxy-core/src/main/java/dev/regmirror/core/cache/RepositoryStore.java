package dev.regmirror.core.cache;

import dev.regmirror.core.storage.CacheLayout;
import dev.regmirror.core.upstream.Route;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.NavigableSet;
import java.util.Optional;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.stream.Stream;

/**
 * The repositories whose manifests regmirror has cached, in the client's naming
 * ({@code docker.io/library/nginx}), for {@code /v2/_catalog}. Each is a marker file
 * {@code repositories/<registry>/<name>/_cached} (a repository component cannot start with
 * {@code _}, so markers never collide with nested names), read once at start and kept in memory.
 * Disk I/O: call {@link #open}, {@link #add} and {@link #remove} from a disk executor.
 */
public final class RepositoryStore {

    private final CacheLayout layout;
    private final NavigableSet<String> names = new ConcurrentSkipListSet<>();

    private RepositoryStore(CacheLayout layout) {
        this.layout = layout;
    }

    /** Opens (creating) the store in the cache and reads what it holds. */
    public static RepositoryStore open(CacheLayout layout) throws IOException {
        RepositoryStore store = new RepositoryStore(layout);
        Files.createDirectories(layout.repositories());
        try (Stream<Path> files = Files.walk(layout.repositories())) {
            files.map(layout::repositoryOf).flatMap(Optional::stream).forEach(store.names::add);
        }
        return store;
    }

    /** Records that a manifest of this repository is cached; cheap when it already is. */
    public void add(Route route) throws IOException {
        String name = route.toString();
        if (names.contains(name)) {
            return;
        }
        Path marker = layout.repositoryMarker(route);
        Files.createDirectories(marker.getParent());
        if (!Files.exists(marker)) {
            Files.createFile(marker);
        }
        names.add(name);
    }

    /** Takes the repository out of the list (a purge left it nothing); its marker file goes too. */
    public void remove(Route route) throws IOException {
        Files.deleteIfExists(layout.repositoryMarker(route));
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
