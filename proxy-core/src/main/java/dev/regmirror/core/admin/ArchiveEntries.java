package dev.regmirror.core.admin;

import dev.regmirror.core.error.InvalidRequestException;
import dev.regmirror.core.error.Printable;
import dev.regmirror.core.error.RegistryErrorCode;
import dev.regmirror.core.reference.Digest;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * The regular files of an image archive (a tar), read once: each file's digest, size and
 * compression, and the bytes of small JSON files (manifests, configs, {@code index.json}). Refuses,
 * as 400, what is not a tar, names that could escape ({@code ..}, absolute), links to anything but
 * another file of the archive, devices,
 * duplicate names, and a {@code blobs/<alg>/<hex>} file whose content is not that digest. Disk I/O
 * and hashing: call from the disk executor.
 */
final class ArchiveEntries {

    /** How a layer's bytes are compressed, from their first bytes. */
    enum Compression { GZIP, ZSTD, NONE }

    /** One regular file of the archive; {@code bytes} is null for files too big to keep. */
    record Entry(String name, Digest digest, long size, Compression compression, byte[] bytes) {
    }

    static final long KEEP_LIMIT = 4L * 1024 * 1024;
    private static final long KEEP_TOTAL = 64L * 1024 * 1024;
    private static final Pattern BLOB = Pattern.compile("blobs/sha256/(.*)");

    private final Map<String, Entry> byName = new LinkedHashMap<>();
    private final Map<Digest, Entry> byDigest = new HashMap<>();

    private ArchiveEntries() {
    }

    /** Reads the tar at {@code file}. */
    static ArchiveEntries read(Path file) throws IOException {
        ArchiveEntries entries = new ArchiveEntries();
        long kept = 0;
        Map<String, String> links = new LinkedHashMap<>();
        try (TarArchiveInputStream tar = open(file)) {
            TarArchiveEntry entry;
            while ((entry = next(tar)) != null) {
                String name = checkedName(entry);
                if (name == null) {
                    continue;
                }
                if (entry.isSymbolicLink() || entry.isLink()) {
                    links.put(name, linkTarget(name, entry));
                    continue;
                }
                boolean keep = entry.getSize() <= KEEP_LIMIT && kept + entry.getSize() <= KEEP_TOTAL;
                Entry read = entries.readEntry(tar, name, entry.getSize(), keep);
                kept += read.bytes() == null ? 0 : read.bytes().length;
                if (entries.byName.put(name, read) != null) {
                    throw bad("the archive holds " + Printable.of(name) + " twice");
                }
                entries.byDigest.putIfAbsent(read.digest(), read);
            }
        }
        for (Map.Entry<String, String> link : links.entrySet()) {
            Entry target = entries.byName.get(link.getValue());
            if (target == null) {
                throw bad("archive entry " + Printable.of(link.getKey()) + " links to "
                        + Printable.of(link.getValue()) + ", which is not a file in the archive");
            }
            if (entries.byName.putIfAbsent(link.getKey(), target) != null) {
                throw bad("the archive holds " + Printable.of(link.getKey()) + " twice");
            }
        }
        if (entries.byName.isEmpty()) {
            throw bad("the archive holds no files (is it a tar?)");
        }
        return entries;
    }

    Optional<Entry> named(String name) {
        return Optional.ofNullable(byName.get(normalize(name)));
    }

    Optional<Entry> withDigest(Digest digest) {
        return Optional.ofNullable(byDigest.get(digest));
    }

    static TarArchiveInputStream open(Path file) throws IOException {
        return new TarArchiveInputStream(new BufferedInputStream(Files.newInputStream(file), 256 * 1024));
    }

    /** The next entry; a damaged header is a bad archive, not a server failure. */
    static TarArchiveEntry next(TarArchiveInputStream tar) {
        try {
            return tar.getNextEntry();
        } catch (IOException | RuntimeException e) {
            throw bad("the archive is not a readable tar: " + e.getMessage());
        }
    }

    /** The entry's name if it is a regular file, null for a directory; anything else is refused. */
    static String checkedName(TarArchiveEntry entry) {
        String name = normalize(entry.getName());
        if (entry.getName().startsWith("/") || name.isEmpty() || name.equals("..") || name.startsWith("../")
                || name.contains("/../") || name.endsWith("/..") || name.indexOf('\\') >= 0 || name.indexOf('\0') >= 0) {
            throw bad("archive entry " + Printable.of(entry.getName()) + " would land outside the archive");
        }
        if (entry.isDirectory()) {
            return null;
        }
        if (entry.isSymbolicLink() || entry.isLink()) {
            return name;
        }
        // commons-compress counts any type but a directory as a file: devices and FIFOs are refused here.
        if (!entry.isFile() || entry.isFIFO() || entry.isCharacterDevice() || entry.isBlockDevice()) {
            throw bad("archive entry " + Printable.of(entry.getName()) + " is not a plain file");
        }
        return name;
    }

    /**
     * The archive file a link stands for: a hard link names it from the archive's top, a symbolic
     * link relative to its own directory (docker save links a repeated layer to its first copy).
     * A target outside the archive is refused.
     */
    private static String linkTarget(String name, TarArchiveEntry entry) {
        String target = entry.getLinkName();
        if (target == null || target.isEmpty() || target.startsWith("/") || target.indexOf('\\') >= 0) {
            throw bad("archive entry " + Printable.of(name) + " links to " + Printable.of(target)
                    + ", outside the archive");
        }
        String base = entry.isSymbolicLink() && name.contains("/") ? name.substring(0, name.lastIndexOf('/') + 1) : "";
        java.util.Deque<String> parts = new java.util.ArrayDeque<>();
        for (String part : (base + target).split("/")) {
            if (part.isEmpty() || part.equals(".")) {
                continue;
            }
            if (part.equals("..")) {
                if (parts.isEmpty()) {
                    throw bad("archive entry " + Printable.of(name) + " links to " + Printable.of(target)
                            + ", outside the archive");
                }
                parts.removeLast();
            } else {
                parts.addLast(part);
            }
        }
        return String.join("/", parts);
    }

    private static String normalize(String name) {
        String n = name;
        while (n.startsWith("./")) {
            n = n.substring(2);
        }
        return n;
    }

    private Entry readEntry(InputStream in, String name, long size, boolean keep) {
        MessageDigest hasher = newSha256();
        ByteArrayOutputStream kept = keep ? new ByteArrayOutputStream((int) Math.min(size, 64 * 1024)) : null;
        byte[] head = new byte[4];
        int headLength = 0;
        int firstSignificant = -1;
        byte[] buffer = new byte[64 * 1024];
        long total = 0;
        try {
            int n;
            while ((n = in.read(buffer)) > 0) {
                hasher.update(buffer, 0, n);
                if (kept != null) {
                    kept.write(buffer, 0, n);
                }
                for (int i = 0; i < n && headLength < head.length; i++) {
                    head[headLength++] = buffer[i];
                }
                for (int i = 0; i < n && firstSignificant < 0; i++) {
                    firstSignificant = significant(buffer[i]);
                }
                if (kept != null && firstSignificant >= 0 && firstSignificant != '{' && firstSignificant != '[') {
                    kept = null; // not JSON: only manifests, configs and the index files are read whole
                }
                total += n;
            }
        } catch (IOException e) {
            throw bad("the archive ends inside " + Printable.of(name) + ": " + e.getMessage());
        }
        if (total != size) {
            throw bad("the archive ends inside " + Printable.of(name));
        }
        Digest digest = new Digest("sha256", java.util.HexFormat.of().formatHex(hasher.digest()));
        var blob = BLOB.matcher(name);
        if (blob.matches() && !digest.hex().equals(blob.group(1))) {
            throw new InvalidRequestException(RegistryErrorCode.DIGEST_INVALID, "archive entry " + Printable.of(name)
                    + " does not match its digest: its content is " + digest);
        }
        return new Entry(name, digest, size, compression(head, headLength), kept == null ? null : kept.toByteArray());
    }

    /** The byte, or -1 for JSON's leading whitespace and a UTF-8 byte order mark's bytes. */
    private static int significant(byte b) {
        int value = b & 0xff;
        return value == ' ' || value == '\t' || value == '\r' || value == '\n' || value == 0xef || value == 0xbb
                || value == 0xbf ? -1 : value;
    }

    private static Compression compression(byte[] head, int length) {
        if (length >= 2 && (head[0] & 0xff) == 0x1f && (head[1] & 0xff) == 0x8b) {
            return Compression.GZIP;
        }
        if (length >= 4 && (head[0] & 0xff) == 0x28 && (head[1] & 0xff) == 0xb5 && (head[2] & 0xff) == 0x2f
                && (head[3] & 0xff) == 0xfd) {
            return Compression.ZSTD;
        }
        return Compression.NONE;
    }

    private static MessageDigest newSha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JVM lacks SHA-256", e);
        }
    }

    static InvalidRequestException bad(String message) {
        return new InvalidRequestException(RegistryErrorCode.MANIFEST_INVALID, message);
    }
}
