package dev.regmirror.core.upstream;

import java.util.Objects;

/**
 * One place an upstream's content can be fetched from: the real registry or a mirror of it, with
 * the layout of its names, and whether it is a partial mirror (a sync station lacking images),
 * whose "not found" means "try the next endpoint" rather than "does not exist".
 */
public record Endpoint(EndpointSettings settings, NameRewrite rewrite, boolean partial) {

    public Endpoint {
        Objects.requireNonNull(settings, "settings");
        Objects.requireNonNull(rewrite, "rewrite");
    }

    /** An endpoint with the upstream's own naming that answers for everything. */
    public static Endpoint of(EndpointSettings settings) {
        return new Endpoint(settings, NameRewrite.IDENTITY, false);
    }
}
