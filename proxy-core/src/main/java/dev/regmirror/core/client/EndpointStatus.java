package dev.regmirror.core.client;

import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * What one endpoint of an upstream looks like from here, for the admin API's upstream page: its URL
 * (without user information), until when it is skipped after a failure (empty while it is up), and
 * the last failure that started a skip window and when.
 */
public record EndpointStatus(String url, Optional<Instant> skippedUntil, Optional<String> lastError,
                             Optional<Instant> lastErrorAt) {

    public EndpointStatus {
        Objects.requireNonNull(url, "url");
        Objects.requireNonNull(skippedUntil, "skippedUntil");
        Objects.requireNonNull(lastError, "lastError");
        Objects.requireNonNull(lastErrorAt, "lastErrorAt");
    }

    /** Whether requests go to it now (it is not in a skip window). */
    public boolean up() {
        return skippedUntil.isEmpty();
    }
}
