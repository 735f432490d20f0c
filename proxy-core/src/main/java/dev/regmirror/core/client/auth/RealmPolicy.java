package dev.regmirror.core.client.auth;

import dev.regmirror.core.upstream.EndpointSettings;
import java.net.URI;
import java.util.Objects;

/**
 * Decides whether an upstream's credentials may go to a token realm: only to the configured
 * {@code tokenRealm}, or when none is configured, only to a realm on the upstream's own host.
 */
public final class RealmPolicy {

    private final EndpointSettings settings;

    public RealmPolicy(EndpointSettings settings) {
        this.settings = Objects.requireNonNull(settings, "settings");
    }

    public boolean allowsCredentials(URI realm) {
        if (settings.credentials().isEmpty() || realm.getHost() == null) {
            return false;
        }
        return settings.tokenRealm()
                .map(configured -> sameEndpoint(configured, realm))
                .orElseGet(() -> realm.getHost().equalsIgnoreCase(settings.url().getHost()));
    }

    /** Same scheme, host, port and path; the query does not matter. */
    private static boolean sameEndpoint(URI a, URI b) {
        return Origin.same(a, b) && normalPath(a).equals(normalPath(b));
    }

    private static String normalPath(URI uri) {
        String path = uri.getPath() == null ? "" : uri.getPath();
        return path.replaceAll("/+$", "");
    }
}
