package dev.regmirror.server.http;

/**
 * The bytes {@code first} to {@code last} (inclusive) of a blob of {@code size} bytes that a 206
 * response sends; {@code toString()} is its {@code Content-Range} value
 * (<a href="https://www.rfc-editor.org/rfc/rfc9110#section-14.4">RFC 9110 §14.4</a>).
 */
public record ContentRange(long first, long last, long size) {

    public ContentRange {
        if (first < 0 || last < first || last >= size) {
            throw new IllegalArgumentException("bytes " + first + "-" + last + " are not within " + size + " bytes");
        }
    }

    /** The {@code Content-Range} of a 416 for a blob of this size: {@code bytes *}{@code /size}. */
    public static String unsatisfied(long size) {
        return "bytes */" + size;
    }

    static void requirePositive(long size) {
        if (size <= 0) {
            throw new IllegalArgumentException("a range needs a blob of known, non-zero size, not " + size);
        }
    }

    /** How many bytes the response sends. */
    public long length() {
        return last - first + 1;
    }

    @Override
    public String toString() {
        return "bytes " + first + "-" + last + "/" + size;
    }
}
