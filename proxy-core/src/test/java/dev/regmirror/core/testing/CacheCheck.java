package dev.regmirror.core.testing;

import dev.regmirror.core.storage.CacheLayout;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * Checks a regmirror cache directory from outside, as a test's last word on it (until
 * {@code regmirror verify} exists, which does the same from inside): every file under
 * {@code blobs/sha256/<2 hex>/} hashes to its name, and what {@code ingest/} still holds.
 */
public final class CacheCheck {

    private CacheCheck() {
    }

    /** The hex digests of every blob file under {@code <cache>/blobs/sha256}. */
    public static Set<String> blobs(Path cache) {
        Path root = new CacheLayout(cache).blobs().resolve("sha256");
        Set<String> names = new TreeSet<>();
        if (!Files.isDirectory(root)) {
            return names;
        }
        try (Stream<Path> files = Files.walk(root)) {
            files.filter(Files::isRegularFile).forEach(file -> names.add(file.getFileName().toString()));
        } catch (IOException e) {
            throw new UncheckedIOException("walk " + root, e);
        }
        return names;
    }

    /**
     * Every blob file whose content does not hash to its name, or that lies in the wrong
     * {@code <2 hex>} directory, as {@code "<path>: <what>"}; empty when the cache is sound.
     */
    public static List<String> corruptBlobs(Path cache) {
        Path root = new CacheLayout(cache).blobs().resolve("sha256");
        List<String> corrupt = new ArrayList<>();
        if (!Files.isDirectory(root)) {
            return corrupt;
        }
        try (Stream<Path> files = Files.walk(root)) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                String name = file.getFileName().toString();
                String actual = sha256Hex(file);
                if (!actual.equals(name)) {
                    corrupt.add(file + ": " + Files.size(file) + " bytes hashing to " + actual);
                } else if (!file.getParent().getFileName().toString().equals(name.substring(0, 2))) {
                    corrupt.add(file + ": in the wrong directory");
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("walk " + root, e);
        }
        return corrupt;
    }

    /** Manifest type files ({@code manifests/sha256/<hex>}) whose bytes are not in {@code blobs/}. */
    public static List<String> typesWithoutBytes(Path cache) {
        Path root = new CacheLayout(cache).manifestTypes().resolve("sha256");
        List<String> missing = new ArrayList<>();
        if (!Files.isDirectory(root)) {
            return missing;
        }
        Set<String> blobs = blobs(cache);
        try (Stream<Path> files = Files.list(root)) {
            files.filter(Files::isRegularFile).map(file -> file.getFileName().toString())
                    .filter(hex -> !blobs.contains(hex)).forEach(missing::add);
        } catch (IOException e) {
            throw new UncheckedIOException("list " + root, e);
        }
        return missing;
    }

    /** Every file under {@code <cache>/ingest}, relative names. */
    public static List<String> ingestLeftovers(Path cache) {
        Path ingest = new CacheLayout(cache).ingest();
        if (!Files.isDirectory(ingest)) {
            return List.of();
        }
        try (Stream<Path> files = Files.walk(ingest)) {
            return files.filter(file -> !file.equals(ingest)).map(file -> ingest.relativize(file).toString()).toList();
        } catch (IOException e) {
            throw new UncheckedIOException("walk " + ingest, e);
        }
    }

    private static String sha256Hex(Path file) throws IOException {
        try (InputStream in = new DigestInputStream(Files.newInputStream(file), MessageDigest.getInstance("SHA-256"))) {
            DigestInputStream digesting = (DigestInputStream) in;
            byte[] buffer = new byte[64 * 1024];
            while (digesting.read(buffer) >= 0) {
                // hashing
            }
            return HexFormat.of().formatHex(digesting.getMessageDigest().digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
