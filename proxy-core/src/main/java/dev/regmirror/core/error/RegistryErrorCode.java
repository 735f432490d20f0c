package dev.regmirror.core.error;

/**
 * The registry error codes regmirror answers with, each owning its HTTP status, as in the
 * <a href="https://github.com/opencontainers/distribution-spec/blob/main/spec.md#error-codes">OCI
 * distribution spec error codes</a> and distribution's {@code registry/api/errcode/register.go}.
 *
 * <p>{@link #NOT_FOUND} (no such endpoint), {@link #UNAVAILABLE} and {@link #UPSTREAM_ERROR} are a
 * mirror's own: the path is not part of the API, the upstream could not be
 * reached, or answered with something that cannot be passed on as it is. So are the admin API's
 * {@link #BODY_INVALID}, {@link #PLATFORM_INVALID} and {@link #JOB_UNKNOWN}, and the refusals of a
 * request head that came too slowly or too big: {@link #REQUEST_TIMEOUT}, {@link #URI_TOO_LONG} and
 * {@link #HEADERS_TOO_LARGE}; and of a request whose body the listener will not take:
 * {@link #BODY_TOO_LARGE} and {@link #EXPECTATION_FAILED}. {@link #MANIFEST_TOO_LARGE} is a pushed manifest past
 * {@code regmirror.hosted.max-manifest-size}: the spec only says to answer 413, and gives no code.
 */
public enum RegistryErrorCode {
    BLOB_UNKNOWN(404, "blob unknown to registry"),
    BLOB_UPLOAD_INVALID(400, "blob upload invalid"),
    BLOB_UPLOAD_UNKNOWN(404, "blob upload unknown to registry"),
    DIGEST_INVALID(400, "provided digest did not match uploaded content"),
    MANIFEST_BLOB_UNKNOWN(400, "manifest references a manifest or blob unknown to registry"),
    MANIFEST_INVALID(400, "manifest invalid"),
    MANIFEST_UNKNOWN(404, "manifest unknown to registry"),
    MANIFEST_TOO_LARGE(413, "manifest too large"),
    NAME_INVALID(400, "invalid repository name"),
    NAME_UNKNOWN(404, "repository name not known to registry"),
    SIZE_INVALID(400, "provided length did not match content length"),
    TAG_INVALID(400, "manifest tag did not match URI"),
    UNAUTHORIZED(401, "authentication required"),
    DENIED(403, "requested access to the resource is denied"),
    UNSUPPORTED(405, "the operation is unsupported"),
    TOOMANYREQUESTS(429, "too many requests"),
    UNKNOWN(500, "unknown error"),
    NOT_FOUND(404, "no such endpoint"),
    PAGINATION_NUMBER_INVALID(400, "invalid number of results requested"),
    PARAMETER_INVALID(400, "invalid query parameter"),
    RANGE_INVALID(416, "requested range not satisfiable"),
    UPSTREAM_ERROR(502, "the upstream registry failed to answer properly"),
    BODY_INVALID(400, "the request body is not what the endpoint takes"),
    PLATFORM_INVALID(400, "invalid platform"),
    JOB_UNKNOWN(404, "job unknown"),
    REQUEST_TIMEOUT(408, "the request head did not arrive in time"),
    URI_TOO_LONG(414, "request line too long"),
    HEADERS_TOO_LARGE(431, "request header fields too large"),
    BODY_TOO_LARGE(413, "request body too large"),
    EXPECTATION_FAILED(417, "the request's Expect header cannot be met"),
    UNAVAILABLE(503, "service unavailable");

    private final int status;
    private final String defaultMessage;

    RegistryErrorCode(int status, String defaultMessage) {
        this.status = status;
        this.defaultMessage = defaultMessage;
    }

    /** The HTTP status a response carrying this code has. */
    public int status() {
        return status;
    }

    public String defaultMessage() {
        return defaultMessage;
    }

    /** Maps a code seen on the wire to ours; anything unknown becomes {@link #UNKNOWN}. */
    public static RegistryErrorCode fromWire(String code) {
        if (code == null) {
            return UNKNOWN;
        }
        for (RegistryErrorCode c : values()) {
            if (c.name().equals(code)) {
                return c;
            }
        }
        return UNKNOWN;
    }
}
