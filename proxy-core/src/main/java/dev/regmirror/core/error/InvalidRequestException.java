package dev.regmirror.core.error;

import java.util.Map;

/** The client asked for something malformed or unsupported: its own fault, never the upstream's. */
public final class InvalidRequestException extends ProxyException {

    private final Map<String, String> headers;

    public InvalidRequestException(RegistryErrorCode code, String message) {
        this(code, message, null, Map.of());
    }

    public InvalidRequestException(RegistryErrorCode code, String message, Object detail) {
        this(code, message, detail, Map.of());
    }

    /** With response headers the answer must carry, such as a 416's {@code Content-Range}. */
    public InvalidRequestException(RegistryErrorCode code, String message, Object detail, Map<String, String> headers) {
        super(code, message, detail, null);
        this.headers = Map.copyOf(headers);
    }

    @Override
    public Map<String, String> headers() {
        return headers;
    }
}
