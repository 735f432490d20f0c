package dev.regmirror.core.hosted;

import dev.regmirror.core.upstream.Route;
import java.util.Objects;

/**
 * Where one blob upload to a hosted repository stands: its id, its repository and how many bytes it
 * holds, which the <a href="https://github.com/opencontainers/distribution-spec/blob/v1.1.0/spec.md#pushing-blobs">push
 * API</a> reports as {@code Range: 0-<last>}.
 */
public record Upload(UploadId id, Route route, long size) {

    public Upload {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(route, "route");
        if (size < 0) {
            throw new IllegalArgumentException("size " + size);
        }
    }

    /** The {@code Range} header's value: {@code 0-<last byte>}, {@code 0-0} while empty (as distribution answers). */
    public String range() {
        return "0-" + Math.max(0, size - 1);
    }
}
