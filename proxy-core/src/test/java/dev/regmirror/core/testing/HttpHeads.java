package dev.regmirror.core.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads HTTP/1.1 message heads off a raw stream, as {@link FaultProxy} needs to follow exchanges. */
final class HttpHeads {

    private static final Pattern CONTENT_LENGTH = Pattern.compile("(?im)^content-length:\\s*(\\d+)\\s*$");

    private HttpHeads() {
    }

    /** Reads an HTTP head up to and including the blank line; null if the stream ends first. */
    static byte[] read(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream(512);
        int matched = 0;
        int b;
        while ((b = in.read()) >= 0) {
            head.write(b);
            matched = (b == '\r' && (matched == 0 || matched == 2)) || (b == '\n' && (matched == 1 || matched == 3))
                    ? matched + 1 : (b == '\r' ? 1 : 0);
            if (matched == 4) {
                return head.toByteArray();
            }
            if (head.size() > 64 * 1024) {
                throw new IOException("head over 64 KiB");
            }
        }
        return null;
    }

    /** The body length a response head declares: its Content-Length, 0 for 1xx/204/304, -1 if unknown. */
    static long bodyLength(byte[] head) {
        String text = new String(head, StandardCharsets.ISO_8859_1);
        int status = Integer.parseInt(text.substring(9, 12));
        if (status < 200 || status == 204 || status == 304) {
            return 0;
        }
        if (chunked(head)) {
            return -1;
        }
        return contentLength(text);
    }

    /** Whether a response head declares a chunked body. */
    static boolean chunked(byte[] head) {
        return new String(head, StandardCharsets.ISO_8859_1).toLowerCase(Locale.ROOT)
                .contains("transfer-encoding: chunked");
    }

    /** Reads one line up to and including its LF; null if the stream ends first. */
    static byte[] line(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream(16);
        int b;
        while ((b = in.read()) >= 0) {
            line.write(b);
            if (b == '\n') {
                return line.toByteArray();
            }
            if (line.size() > 8 * 1024) {
                throw new IOException("line over 8 KiB");
            }
        }
        return null;
    }

    /** The size a chunk's size line declares (hex, extensions after {@code ;} ignored). */
    static long chunkSize(byte[] sizeLine) throws IOException {
        String text = new String(sizeLine, StandardCharsets.ISO_8859_1).trim();
        int semicolon = text.indexOf(';');
        try {
            return Long.parseLong((semicolon < 0 ? text : text.substring(0, semicolon)).trim(), 16);
        } catch (NumberFormatException e) {
            throw new IOException("not a chunk size line: " + text);
        }
    }

    /** Whether a response head is an interim answer (1xx but 101), which a final one follows. */
    static boolean interim(byte[] head) {
        String text = new String(head, StandardCharsets.ISO_8859_1);
        int status = Integer.parseInt(text.substring(9, 12));
        return status >= 100 && status < 200 && status != 101;
    }

    /** The Content-Length of a head's text, or -1. */
    static long contentLength(String head) {
        Matcher length = CONTENT_LENGTH.matcher(head);
        return length.find() ? Long.parseLong(length.group(1)) : -1;
    }
}
