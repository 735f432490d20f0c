package dev.regmirror.core.hosted;

import dev.regmirror.core.error.InvalidRequestException;
import dev.regmirror.core.error.RegistryErrorCode;
import java.util.Objects;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * The id of one blob upload to a hosted repository, as the {@code Location} and
 * {@code Docker-Upload-UUID} of the
 * <a href="https://github.com/opencontainers/distribution-spec/blob/v1.1.0/spec.md#pushing-blobs">push
 * API</a> carry it: a random UUID, lower case. Anything else a client sends is BLOB_UPLOAD_UNKNOWN
 * (it names no upload), and never reaches a path.
 */
public record UploadId(String value) {

    private static final Pattern FORM = Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");

    public UploadId {
        Objects.requireNonNull(value, "value");
        if (!FORM.matcher(value).matches()) {
            throw new InvalidRequestException(RegistryErrorCode.BLOB_UPLOAD_UNKNOWN, "no upload has the id \""
                    + dev.regmirror.core.error.Printable.of(value) + "\"");
        }
    }

    /** A new random id. Reads the system's random source: not on an event loop. */
    public static UploadId random() {
        return new UploadId(UUID.randomUUID().toString());
    }

    @Override
    public String toString() {
        return value;
    }
}
