package dev.regmirror.core.admin;

import dev.regmirror.core.reference.Digest;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.util.Comparator;
import java.util.HashSet;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * Where an export goes: a tar file (Apache commons-compress's writer, POSIX names) or an OCI layout
 * directory. Blobs land under {@code blobs/<alg>/<hex>}, each written once and checked against its
 * digest and size as it streams; {@link #discard()} removes a partial result. {@link ImageArchiveWriter}
 * decides what goes in.
 */
public abstract class ImageArchive implements java.io.Closeable {

    private final Set<Digest> written = new HashSet<>();

    /** A new tar file; refuses to replace an existing one. */
    public static ImageArchive tar(Path file) throws IOException {
        return new TarFile(file, Files.newOutputStream(file,
                java.nio.file.StandardOpenOption.CREATE_NEW, java.nio.file.StandardOpenOption.WRITE));
    }

    /** A tar written into a stream (an HTTP response body); closing the archive closes the stream. */
    public static ImageArchive tar(OutputStream out) {
        return new TarFile(null, out);
    }

    /** A new OCI layout directory; refuses one that exists and is not empty. */
    public static ImageArchive directory(Path dir) throws IOException {
        return new Directory(dir);
    }

    /** The path of a blob inside the archive. */
    public static String blobPath(Digest digest) {
        return "blobs/" + digest.algorithm() + "/" + digest.hex();
    }

    /** Whether the blob was written already. */
    final boolean has(Digest digest) {
        return written.contains(digest);
    }

    /** Writes a blob from a stream of {@code size} bytes; a wrong size or digest fails. */
    final void blob(Digest digest, long size, InputStream in) throws IOException {
        try (in) {
            if (written.add(digest)) {
                MessageDigest hasher = digest.newHasher();
                long n = write(blobPath(digest), size, new HashingStream(in, hasher, size));
                if (n != size) {
                    throw new IOException("blob " + digest + " has " + n + " bytes where its descriptor says " + size);
                }
                if (!digest.matches(hasher)) {
                    throw new IOException("blob " + digest + " arrived with other content (digest mismatch)");
                }
            }
        }
    }

    /** Writes small bytes known to have this digest (manifests). */
    final void blob(Digest digest, byte[] bytes) throws IOException {
        blob(digest, bytes.length, new java.io.ByteArrayInputStream(bytes));
    }

    /** Writes a small file at the archive's top ({@code index.json}, {@code manifest.json}). */
    final void file(String name, byte[] bytes) throws IOException {
        write(name, bytes.length, new java.io.ByteArrayInputStream(bytes));
    }

    /** Copies {@code size} bytes to the named entry and returns how many there were. */
    abstract long write(String name, long size, InputStream in) throws IOException;

    /** Removes what was written, after a failure (a stream is only closed). */
    public abstract void discard();

    /** Reads at most the declared size, hashing; one byte more shows up as a size mismatch. */
    private static final class HashingStream extends java.io.FilterInputStream {
        private final MessageDigest hasher;

        HashingStream(InputStream in, MessageDigest hasher, long size) {
            super(in);
            this.hasher = hasher;
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0) {
                hasher.update((byte) b);
            }
            return b;
        }

        @Override
        public int read(byte[] buffer, int offset, int length) throws IOException {
            int n = super.read(buffer, offset, length);
            if (n > 0) {
                hasher.update(buffer, offset, n);
            }
            return n;
        }
    }

    /** Copies up to {@code size} bytes, then checks that the stream ended there. */
    static long copy(InputStream in, OutputStream out, long size) throws IOException {
        byte[] buffer = new byte[64 * 1024];
        long total = 0;
        while (total < size) {
            int n = in.read(buffer, 0, (int) Math.min(buffer.length, size - total));
            if (n < 0) {
                return total;
            }
            out.write(buffer, 0, n);
            total += n;
        }
        return in.read() < 0 ? total : total + 1;
    }

    private static final class TarFile extends ImageArchive {
        private final Path file;
        private final TarArchiveOutputStream tar;

        /** @param file the file {@code out} writes, removed on discard; null for a stream */
        TarFile(Path file, OutputStream out) {
            this.file = file;
            this.tar = new TarArchiveOutputStream(new BufferedOutputStream(out, 256 * 1024));
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
        }

        @Override
        long write(String name, long size, InputStream in) throws IOException {
            TarArchiveEntry entry = new TarArchiveEntry(name);
            entry.setSize(size);
            entry.setModTime(0);
            entry.setMode(0644);
            tar.putArchiveEntry(entry);
            long n = copy(in, tar, size);
            if (n != size) {
                return n;
            }
            tar.closeArchiveEntry();
            return n;
        }

        @Override
        public void discard() {
            try {
                tar.close();
            } catch (IOException | RuntimeException ignored) {
                // the file goes anyway
            }
            try {
                if (file != null) {
                    Files.deleteIfExists(file);
                }
            } catch (IOException ignored) {
                // nothing more to do
            }
        }

        @Override
        public void close() throws IOException {
            tar.finish();
            tar.close();
        }
    }

    private static final class Directory extends ImageArchive {
        private final Path dir;

        Directory(Path dir) throws IOException {
            this.dir = dir;
            if (Files.exists(dir)) {
                try (Stream<Path> entries = Files.list(dir)) {
                    if (entries.findAny().isPresent()) {
                        throw new FileAlreadyExistsException(dir.toString());
                    }
                }
            }
            Files.createDirectories(dir);
        }

        @Override
        long write(String name, long size, InputStream in) throws IOException {
            Path target = dir.resolve(name);
            Files.createDirectories(target.getParent());
            Path temp = target.resolveSibling(target.getFileName() + ".partial");
            long n;
            try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(temp), 256 * 1024)) {
                n = copy(in, out, size);
            }
            Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
            return n;
        }

        @Override
        public void discard() {
            try (Stream<Path> paths = Files.walk(dir)) {
                paths.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
            } catch (IOException ignored) {
                // best effort
            }
        }

        @Override
        public void close() {
        }
    }
}
