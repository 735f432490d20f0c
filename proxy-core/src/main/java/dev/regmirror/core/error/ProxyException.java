package dev.regmirror.core.error;

import java.util.Map;

/**
 * Every failure a request can end in: the one exception family the server's error responder turns
 * into a registry error response ({@code {"errors":[...]}}).
 */
public abstract sealed class ProxyException extends RuntimeException
        permits InvalidRequestException, UpstreamErrorException, UpstreamUnavailableException {

    private final RegistryErrorCode code;
    private final transient Object detail;

    protected ProxyException(RegistryErrorCode code, String message, Object detail, Throwable cause) {
        super(message, cause);
        this.code = code;
        this.detail = detail;
    }

    public RegistryErrorCode code() {
        return code;
    }

    /** The HTTP status of the answer; the code's own unless a subclass says otherwise. */
    public int status() {
        return code.status();
    }

    /** Free-form detail for the error JSON, or null. */
    public Object detail() {
        return detail;
    }

    /** Extra response headers the client should see (for example {@code Retry-After}). */
    public Map<String, String> headers() {
        return Map.of();
    }
}
