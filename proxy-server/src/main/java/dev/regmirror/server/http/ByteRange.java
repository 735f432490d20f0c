package dev.regmirror.server.http;

import java.util.Optional;

/**
 * The one byte range a request's {@code Range} header asks for
 * (<a href="https://www.rfc-editor.org/rfc/rfc9110#section-14.1.2">RFC 9110 §14.1.2</a>), parsed
 * before the blob's size is known: {@code bytes=a-b}, {@code bytes=a-} or the suffix
 * {@code bytes=-n}. Anything else (several ranges, another unit, bad syntax) parses to nothing,
 * and the whole blob is sent, as RFC 9110 §14.2 allows. {@code toString()} is the header value.
 */
public sealed interface ByteRange {

    /**
     * The bytes of a blob of this size (greater than zero) the range selects, the end clamped to
     * the last byte; empty if it selects none, which is answered 416.
     */
    Optional<ContentRange> within(long size);

    /** Parses a {@code Range} header value; empty when it is absent or to be ignored. */
    static Optional<ByteRange> parse(String header) {
        if (header == null) {
            return Optional.empty();
        }
        int equals = header.indexOf('=');
        if (equals < 0 || !header.substring(0, equals).trim().equalsIgnoreCase("bytes")) {
            return Optional.empty();
        }
        String spec = header.substring(equals + 1).trim();
        int dash = spec.indexOf('-');
        if (dash < 0 || spec.indexOf(',') >= 0) {
            return Optional.empty();
        }
        String first = spec.substring(0, dash);
        String last = spec.substring(dash + 1);
        if (first.isEmpty()) {
            return isNumber(last) ? Optional.of(new Suffix(number(last))) : Optional.empty();
        }
        if (!isNumber(first) || !(last.isEmpty() || isNumber(last))) {
            return Optional.empty();
        }
        long from = number(first);
        long to = last.isEmpty() ? Span.OPEN : number(last);
        return to < from ? Optional.empty() : Optional.of(new Span(from, to));
    }

    private static boolean isNumber(String text) {
        return !text.isEmpty() && text.chars().allMatch(c -> c >= '0' && c <= '9');
    }

    /** The value of a string of digits; one too large for a long counts as past any blob's end. */
    private static long number(String digits) {
        try {
            return Long.parseLong(digits);
        } catch (NumberFormatException e) {
            return Long.MAX_VALUE;
        }
    }

    /** {@code bytes=first-last}, or {@code bytes=first-} when {@code last} is {@link #OPEN}. */
    record Span(long first, long last) implements ByteRange {

        /** The end of {@code bytes=first-}: past the last byte of any blob. */
        public static final long OPEN = Long.MAX_VALUE;

        public Span {
            if (first < 0 || last < first) {
                throw new IllegalArgumentException("not a byte range: " + first + "-" + last);
            }
        }

        @Override
        public Optional<ContentRange> within(long size) {
            ContentRange.requirePositive(size);
            return first >= size ? Optional.empty()
                    : Optional.of(new ContentRange(first, Math.min(last, size - 1), size));
        }

        @Override
        public String toString() {
            return "bytes=" + first + "-" + (last == OPEN ? "" : String.valueOf(last));
        }
    }

    /** {@code bytes=-length}: the last {@code length} bytes, or all of a shorter blob. */
    record Suffix(long length) implements ByteRange {

        public Suffix {
            if (length < 0) {
                throw new IllegalArgumentException("negative suffix length " + length);
            }
        }

        @Override
        public Optional<ContentRange> within(long size) {
            ContentRange.requirePositive(size);
            return length == 0 ? Optional.empty()
                    : Optional.of(new ContentRange(Math.max(0, size - length), size - 1, size));
        }

        @Override
        public String toString() {
            return "bytes=-" + length;
        }
    }
}
