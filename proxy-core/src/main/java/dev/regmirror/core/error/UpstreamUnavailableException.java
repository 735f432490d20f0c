package dev.regmirror.core.error;

/**
 * The upstream could not be reached, timed out, or broke off: the client gets 503 naming the
 * upstream, never a "not found".
 */
public final class UpstreamUnavailableException extends ProxyException {

    private final String upstream;

    public UpstreamUnavailableException(String upstream, String message, Throwable cause) {
        super(RegistryErrorCode.UNAVAILABLE, message, null, cause);
        this.upstream = upstream;
    }

    public String upstream() {
        return upstream;
    }
}
