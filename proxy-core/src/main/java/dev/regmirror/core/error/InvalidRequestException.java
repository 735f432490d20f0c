package dev.regmirror.core.error;

/** The client asked for something malformed or unsupported: its own fault, never the upstream's. */
public final class InvalidRequestException extends ProxyException {

    public InvalidRequestException(RegistryErrorCode code, String message) {
        super(code, message, null, null);
    }

    public InvalidRequestException(RegistryErrorCode code, String message, Object detail) {
        super(code, message, detail, null);
    }
}
