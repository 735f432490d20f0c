package dev.regmirror.core.mirror;

import dev.regmirror.core.client.TagList;
import dev.regmirror.core.upstream.Route;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;

/** Answers tag-list requests by asking the route's upstream; tag lists are not cached in this version. */
public final class PullThroughTags {

    private final RegistryClients clients;

    public PullThroughTags(RegistryClients clients) {
        this.clients = clients;
    }

    /** One page of the repository's tags, as its upstream lists them. */
    public CompletableFuture<TagList> list(Route route, OptionalInt n, Optional<String> last) {
        return clients.forRegistry(route.registry()).listTags(route.name(), n, last);
    }
}
