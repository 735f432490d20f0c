package dev.regmirror.core.upstream;

import java.net.URI;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * One upstream registry as configured: the registry it stands for ({@code docker.io}), the base
 * URL regmirror talks to, optional credentials and the one token realm they may be sent to, and
 * timeouts.
 *
 * @param registry        the registry name clients use for it, such as {@code docker.io}
 * @param url             the endpoint's base URL, such as {@code https://registry-1.docker.io}
 * @param libraryPrefix   the component added to one-word names ({@code library} on Docker Hub), or empty
 * @param credentials     credentials for the token realm or basic auth, if any
 * @param tokenRealm      the only token realm credentials are sent to; when empty, credentials go to
 *                        a realm on the endpoint's own host only
 * @param connectTimeout  how long to wait for a connection
 * @param readTimeout     how long to wait for response headers, and between two reads of a body
 */
public record UpstreamSettings(String registry, URI url, String libraryPrefix,
                               Optional<Credentials> credentials, Optional<URI> tokenRealm,
                               Duration connectTimeout, Duration readTimeout) {

    public UpstreamSettings {
        Objects.requireNonNull(registry, "registry");
        Objects.requireNonNull(url, "url");
        Objects.requireNonNull(libraryPrefix, "libraryPrefix");
        Objects.requireNonNull(credentials, "credentials");
        Objects.requireNonNull(tokenRealm, "tokenRealm");
        Objects.requireNonNull(connectTimeout, "connectTimeout");
        Objects.requireNonNull(readTimeout, "readTimeout");
        String path = url.getPath();
        if (path != null && path.endsWith("/")) {
            url = URI.create(url.toString().replaceAll("/+$", ""));
        }
    }

    /** Settings with no credentials, for tests and simple cases. */
    public static UpstreamSettings anonymous(String registry, URI url, Duration connectTimeout, Duration readTimeout) {
        return new UpstreamSettings(registry, url, "", Optional.empty(), Optional.empty(), connectTimeout, readTimeout);
    }

    /** How the upstream is named in messages: {@code docker.io (https://registry-1.docker.io)}. */
    public String describe() {
        return registry + " (" + url + ")";
    }
}
