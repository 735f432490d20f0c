package dev.regmirror.server.http;

import io.netty.handler.codec.http.QueryStringEncoder;
import java.util.Optional;

/**
 * The {@code Link: <...>; rel="next"} header of a paginated answer (tags, catalog), pointing at
 * the client's own path, as the
 * <a href="https://github.com/opencontainers/distribution-spec/blob/main/spec.md#listing-tags">spec</a>
 * describes it.
 */
public final class PageLinks {

    private PageLinks() {
    }

    /** The next page's link: the same path, {@code n} where given, {@code last}, and {@code ns} where given. */
    public static String next(String path, Optional<String> namespace, Optional<Integer> n, String last) {
        QueryStringEncoder query = new QueryStringEncoder(path);
        namespace.ifPresent(ns -> query.addParam("ns", ns));
        n.ifPresent(count -> query.addParam("n", String.valueOf(count)));
        query.addParam("last", last);
        return "<" + query + ">; rel=\"next\"";
    }
}
