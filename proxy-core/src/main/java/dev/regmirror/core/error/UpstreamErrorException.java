package dev.regmirror.core.error;

import java.util.Map;
import java.util.Objects;

/**
 * The upstream answered with an error the client should see with the same meaning: not found,
 * unauthorized, denied, rate-limited, or a server error of its own.
 */
public final class UpstreamErrorException extends ProxyException {

    private final String upstream;
    private final int upstreamStatus;
    private final Map<String, String> headers;

    public UpstreamErrorException(RegistryErrorCode code, String message, Object detail, String upstream,
                                  int upstreamStatus, Map<String, String> headers) {
        super(code, message, detail, null);
        this.upstream = Objects.requireNonNull(upstream, "upstream");
        this.upstreamStatus = upstreamStatus;
        this.headers = Map.copyOf(headers);
    }

    /** The registry name of the upstream that answered (for example {@code docker.io}). */
    public String upstream() {
        return upstream;
    }

    /** The status the upstream answered with. */
    public int upstreamStatus() {
        return upstreamStatus;
    }

    /** Whether the upstream said the thing does not exist (as opposed to refusing or failing). */
    public boolean isNotFound() {
        return upstreamStatus == 404;
    }

    @Override
    public Map<String, String> headers() {
        return headers;
    }
}
