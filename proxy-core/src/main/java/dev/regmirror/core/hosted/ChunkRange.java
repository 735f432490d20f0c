package dev.regmirror.core.hosted;

import dev.regmirror.core.error.InvalidRequestException;
import dev.regmirror.core.error.Printable;
import dev.regmirror.core.error.RegistryErrorCode;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code Content-Range} of an upload's chunk, {@code <first>-<last>} (inclusive), as the
 * <a href="https://github.com/opencontainers/distribution-spec/blob/v1.1.0/spec.md#pushing-a-blob-in-chunks">chunked
 * push</a> sends it; a {@code bytes } or {@code bytes=} prefix is tolerated.
 */
record ChunkRange(long first, long last) {

    private static final Pattern FORM = Pattern.compile("(?:bytes[ =])?([0-9]{1,18})-([0-9]{1,18})");

    ChunkRange {
        if (first < 0 || last < first) {
            throw new InvalidRequestException(RegistryErrorCode.BLOB_UPLOAD_INVALID, "Content-Range "
                    + first + "-" + last + " ends before it starts");
        }
    }

    /**
     * Reads the header.
     *
     * @throws InvalidRequestException BLOB_UPLOAD_INVALID when it is not {@code <first>-<last>}
     */
    static ChunkRange parse(String header) {
        Matcher range = FORM.matcher(header.trim());
        if (!range.matches()) {
            throw new InvalidRequestException(RegistryErrorCode.BLOB_UPLOAD_INVALID, "Content-Range \""
                    + Printable.of(header) + "\" is not <first>-<last>");
        }
        return new ChunkRange(Long.parseLong(range.group(1)), Long.parseLong(range.group(2)));
    }

    long length() {
        return last - first + 1;
    }

    @Override
    public String toString() {
        return first + "-" + last;
    }
}
