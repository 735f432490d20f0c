package dev.regmirror.core.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.zip.GZIPOutputStream;

/**
 * Writes a one-file POSIX ustar archive and gzips it, byte for byte reproducibly, as an image layer
 * (<a href="https://pubs.opengroup.org/onlinepubs/9699919799/utilities/pax.html#tag_20_92_13_06">ustar
 * interchange format</a>).
 */
final class TarGz {

    private static final int BLOCK = 512;

    private TarGz() {
    }

    /** A tar archive holding one regular file {@code name} (mode 0644, owner 0, mtime 0). */
    static byte[] tarOfOneFile(String name, byte[] content) {
        byte[] nameBytes = name.getBytes(StandardCharsets.US_ASCII);
        if (nameBytes.length > 100) {
            throw new IllegalArgumentException("tar name over 100 bytes: " + name);
        }
        int padded = (content.length + BLOCK - 1) / BLOCK * BLOCK;
        byte[] tar = new byte[BLOCK + padded + 2 * BLOCK];
        System.arraycopy(nameBytes, 0, tar, 0, nameBytes.length);
        octal(tar, 100, 8, 0644);
        octal(tar, 108, 8, 0);
        octal(tar, 116, 8, 0);
        octal(tar, 124, 12, content.length);
        octal(tar, 136, 12, 0);
        tar[156] = '0';
        ascii(tar, 257, "ustar\0" + "00");
        ascii(tar, 265, "root");
        ascii(tar, 297, "root");
        ascii(tar, 148, "        ");
        long checksum = 0;
        for (int i = 0; i < BLOCK; i++) {
            checksum += tar[i] & 0xff;
        }
        octal(tar, 148, 7, checksum);
        tar[155] = ' ';
        System.arraycopy(content, 0, tar, BLOCK, content.length);
        return tar;
    }

    /** Gzip with the JDK's fixed header (mtime 0), so equal input gives equal output. */
    static byte[] gzip(byte[] data) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(data.length + 1024);
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(data);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /** Zero-padded octal of {@code width - 1} digits and a NUL terminator. */
    private static void octal(byte[] header, int offset, int width, long value) {
        String digits = Long.toOctalString(value);
        if (digits.length() > width - 1) {
            throw new IllegalArgumentException("value " + value + " does not fit a tar field of " + width);
        }
        ascii(header, offset, "0".repeat(width - 1 - digits.length()) + digits + "\0");
    }

    private static void ascii(byte[] header, int offset, String text) {
        byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(bytes, 0, header, offset, bytes.length);
    }
}
