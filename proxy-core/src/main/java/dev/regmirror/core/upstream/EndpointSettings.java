package dev.regmirror.core.upstream;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * One endpoint of an upstream as the registry client needs it: the base URL to talk to, the
 * credentials for that endpoint and the one token realm they may be sent to, timeouts, an extra
 * CA certificate to trust, an HTTP proxy to go through, and the name its certificate is checked
 * against when that is not the URL's host.
 *
 * @param registry        the registry the endpoint serves, such as {@code docker.io} (for messages)
 * @param url             the endpoint's base URL, such as {@code https://registry-1.docker.io}
 * @param credentials     credentials for the token realm or basic auth, if any
 * @param tokenRealm      the only token realm credentials are sent to; when empty, credentials go to
 *                        a realm on the endpoint's own host only
 * @param connectTimeout  how long to wait for a connection
 * @param readTimeout     how long to wait for response headers, and between two reads of a body
 * @param caFile          a PEM file of CA certificates trusted besides the JVM's own, if any
 * @param proxy           an HTTP proxy ({@code http://host:port}) to reach the endpoint through, if any
 * @param tlsName         the name the endpoint's certificate must be valid for, and sent as SNI, instead of
 *                        the URL's host (which is then only where to connect): a cluster node reached at
 *                        an address from DNS, certified for the DNS name; empty for the URL's host
 */
public record EndpointSettings(String registry, URI url, Optional<Credentials> credentials, Optional<URI> tokenRealm,
                               Duration connectTimeout, Duration readTimeout, Optional<Path> caFile,
                               Optional<URI> proxy, Optional<String> tlsName) {

    public EndpointSettings {
        Objects.requireNonNull(registry, "registry");
        Objects.requireNonNull(url, "url");
        Objects.requireNonNull(credentials, "credentials");
        Objects.requireNonNull(tokenRealm, "tokenRealm");
        Objects.requireNonNull(connectTimeout, "connectTimeout");
        Objects.requireNonNull(readTimeout, "readTimeout");
        Objects.requireNonNull(caFile, "caFile");
        Objects.requireNonNull(proxy, "proxy");
        Objects.requireNonNull(tlsName, "tlsName");
        String path = url.getPath();
        if (path != null && path.endsWith("/")) {
            url = URI.create(url.toString().replaceAll("/+$", ""));
        }
    }

    /** Settings whose certificate is checked against the URL's host, as for every upstream. */
    public EndpointSettings(String registry, URI url, Optional<Credentials> credentials, Optional<URI> tokenRealm,
                            Duration connectTimeout, Duration readTimeout, Optional<Path> caFile, Optional<URI> proxy) {
        this(registry, url, credentials, tokenRealm, connectTimeout, readTimeout, caFile, proxy, Optional.empty());
    }

    /** Settings with no credentials, CA file or proxy, for tests and simple cases. */
    public static EndpointSettings anonymous(String registry, URI url, Duration connectTimeout, Duration readTimeout) {
        return new EndpointSettings(registry, url, Optional.empty(), Optional.empty(), connectTimeout, readTimeout,
                Optional.empty(), Optional.empty());
    }

    /** How the endpoint is named in messages: {@code docker.io (https://registry-1.docker.io)}. */
    public String describe() {
        return registry + " (" + url + ")";
    }
}
