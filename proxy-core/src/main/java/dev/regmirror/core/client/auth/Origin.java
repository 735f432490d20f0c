package dev.regmirror.core.client.auth;

import java.net.URI;

/** Compares the origins (scheme, host, port) of URLs, the unit Authorization is scoped to. */
public final class Origin {

    private Origin() {
    }

    /** Whether both URLs have the same scheme, host and effective port. */
    public static boolean same(URI a, URI b) {
        return a.getScheme() != null && a.getScheme().equalsIgnoreCase(b.getScheme())
                && a.getHost() != null && a.getHost().equalsIgnoreCase(b.getHost())
                && port(a) == port(b);
    }

    private static int port(URI uri) {
        if (uri.getPort() >= 0) {
            return uri.getPort();
        }
        return "https".equalsIgnoreCase(uri.getScheme()) ? 443 : 80;
    }
}
