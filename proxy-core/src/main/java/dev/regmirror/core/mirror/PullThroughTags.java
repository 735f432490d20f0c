package dev.regmirror.core.mirror;

import dev.regmirror.core.client.TagList;
import dev.regmirror.core.upstream.Route;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;

/**
 * Answers tag-list requests by asking the route's upstream, and pages the answer itself where the
 * upstream ignores {@code n} and {@code last} (distribution 2.x does): the tags after {@code last}
 * in the upstream's order, at most {@code n}, and a next page where more remain. Tag lists are
 * not cached in this version.
 */
public final class PullThroughTags {

    private final RegistryClients clients;

    public PullThroughTags(RegistryClients clients) {
        this.clients = clients;
    }

    /** One page of the repository's tags. */
    public CompletableFuture<TagList> list(Route route, OptionalInt n, Optional<String> last) {
        return clients.forRegistry(route.registry()).listTags(route.name(), n, last)
                .thenApply(page -> pageOf(page, n, last));
    }

    static TagList pageOf(TagList upstream, OptionalInt n, Optional<String> last) {
        List<String> tags = upstream.tags();
        if (last.isPresent() && tags.contains(last.get())) {
            tags = tags.subList(tags.indexOf(last.get()) + 1, tags.size());
        }
        if (n.isPresent() && tags.size() > n.getAsInt()) {
            List<String> page = tags.subList(0, n.getAsInt());
            return new TagList(page, page.isEmpty() ? Optional.empty() : Optional.of(page.get(page.size() - 1)));
        }
        return new TagList(tags, upstream.next());
    }
}
