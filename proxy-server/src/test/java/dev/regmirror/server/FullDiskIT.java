package dev.regmirror.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.regmirror.core.manifest.Descriptor;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.storage.CacheLayout;
import dev.regmirror.core.testing.BuiltImage;
import dev.regmirror.core.testing.BuiltManifest;
import dev.regmirror.core.testing.MutableClock;
import dev.regmirror.core.testing.RegistryProcess;
import dev.regmirror.core.testing.Skopeo;
import dev.regmirror.core.testing.TestImages;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cache on a really full disk: a small tmpfs the test mounts (as root), a real registry
 * upstream holding more image bytes than the tmpfs has room for, pulled through regmirror with
 * skopeo. While the disk is full every pull still succeeds with the right digests (what cannot be
 * stored is streamed through); once space returns, blobs are cached again; nothing in the cache
 * is ever corrupt and no unfinished download is left behind.
 */
class FullDiskIT {

    private static final int LAYER_SIZE = 1_000_000;
    private static final int LAYERS = 4;
    private static final int IMAGES = 4;
    private static final Duration STORAGE_RETRY = Duration.ofSeconds(30);

    @TempDir
    static Path work;

    private static Path disk;
    private static boolean mounted;
    private static RegistryProcess upstream;
    private static Skopeo skopeo;
    private static final List<BuiltImage> images = new ArrayList<>();

    @BeforeAll
    static void mountSmallDisk() throws Exception {
        disk = work.resolve("disk");
        Files.createDirectories(disk);
        String why = mount(disk, "24m");
        Assumptions.assumeTrue(why == null, () -> "FullDiskIT skipped: " + why);
        mounted = true;
        upstream = RegistryProcess.start();
        skopeo = new Skopeo();
        for (int i = 0; i < IMAGES; i++) {
            BuiltImage image = TestImages.singleArch(work.resolve("image-" + i), "1.0", LAYERS, LAYER_SIZE, 70 + i);
            skopeo.copy(image.source(), "docker://" + upstream.hostPort() + "/library/full-" + i + ":1.0");
            images.add(image);
        }
    }

    @AfterAll
    static void unmount() throws Exception {
        if (skopeo != null) {
            skopeo.close();
        }
        if (upstream != null) {
            upstream.close();
        }
        if (mounted) {
            Process umount = new ProcessBuilder("umount", "-l", disk.toString()).redirectErrorStream(true).start();
            umount.waitFor(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void pullsSucceedWhileTheDiskIsFullAndCachingResumesWhenSpaceReturns() throws Exception {
        Path cache = disk.resolve("cache");
        Path filler = disk.resolve("filler");
        Path lastBytes = disk.resolve("last-bytes");
        // Leaves about 6 MiB of the 24: room for half of the first three images' 12 MB of layers. Without
        // the filler, all four images (16 MB) fit.
        Files.write(filler, new byte[18 * 1024 * 1024]);
        MutableClock clock = new MutableClock();
        try (MirrorFixture mirror = MirrorFixture.start(upstream.url(), cache,
                Map.of("regmirror.cache.storage-retry", STORAGE_RETRY.toSeconds() + "s"), clock)) {
            for (int i = 0; i < 3; i++) {
                pullAndCheck(mirror, i, "full-" + i);
            }
            String full = scrape(mirror);
            long free = Files.getFileStore(disk).getUsableSpace();
            System.out.printf("FullDiskIT: after 3 images: %d bytes free, %d write failures, %d blobs streamed"
                    + " uncached%n", free, value(full, "regmirror_cache_write_failures_total"),
                    value(full, "regmirror_blobs_uncached_total"));
            assertTrue(value(full, "regmirror_cache_write_failures_total") > 0, full);
            assertTrue(value(full, "regmirror_blobs_uncached_total") > 0, full);
            assertTrue(free < 3L * LAYER_SIZE, "the cache filled the disk up to its headroom: " + free + " bytes free");
            assertCacheIntact(cache);

            // Not a byte left: not even a manifest or a tag can be stored now.
            long taken = fillUp(lastBytes);
            pullAndCheck(mirror, 3, "full-3");
            pullAndCheck(mirror, 0, "full-0-again");
            String empty = scrape(mirror);
            System.out.printf("FullDiskIT: with 0 bytes free (%d more filled): %d write failures, %d blobs streamed"
                    + " uncached%n", taken, value(empty, "regmirror_cache_write_failures_total"),
                    value(empty, "regmirror_blobs_uncached_total"));
            assertTrue(value(empty, "regmirror_cache_write_failures_total")
                    > value(full, "regmirror_cache_write_failures_total"),
                    "the fourth image's manifest and tag could not be stored, and were answered all the same");
            assertCacheIntact(cache);

            Files.delete(filler);
            Files.delete(lastBytes);
            clock.advance(STORAGE_RETRY.plusSeconds(1));
            upstream.reset();
            for (int i = 0; i < IMAGES; i++) {
                pullAndCheck(mirror, i, "refill-" + i);
            }
            assertTrue(upstream.blobGets().size() > 0, "what was streamed through is fetched again to be cached");

            upstream.reset();
            for (int i = 0; i < IMAGES; i++) {
                pullAndCheck(mirror, i, "cached-" + i);
            }
            assertEquals(List.of(), upstream.blobGets(), "with space back, every blob was cached");
            assertCacheIntact(cache);
        }
    }

    /** Writes zeros to {@code file} until the file system has no room left; returns how many. */
    private static long fillUp(Path file) throws IOException {
        long written = 0;
        ByteBuffer chunk = ByteBuffer.allocate(4096);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            while (true) {
                chunk.clear();
                written += channel.write(chunk);
            }
        } catch (IOException noSpace) {
            return written;
        }
    }

    private static void pullAndCheck(MirrorFixture mirror, int image, String into) throws IOException {
        Path dir = work.resolve(into);
        skopeo.copyToDir("docker://" + mirror.hostPort() + "/full-" + image + ":1.0", dir);
        BuiltManifest expected = images.get(image).manifest();
        assertEquals(expected.digest(), Digest.sha256Of(Files.readAllBytes(dir.resolve("manifest.json"))));
        List<Descriptor> blobs = new ArrayList<>(expected.layers());
        blobs.add(expected.config());
        for (Descriptor blob : blobs) {
            assertEquals(blob.digest(), Digest.sha256Of(Files.readAllBytes(dir.resolve(blob.digest().hex()))),
                    "blob " + blob.digest() + " of image " + image);
        }
    }

    /** Every file under blobs/ hashes to its name, and no unfinished download is left. */
    private static void assertCacheIntact(Path cache) throws Exception {
        List<Path> files;
        try (Stream<Path> walk = Files.walk(new CacheLayout(cache).blobs())) {
            files = walk.filter(Files::isRegularFile).toList();
        }
        for (Path file : files) {
            assertEquals(file.getFileName().toString(), sha256Hex(file), "cached file " + file);
        }
        Path ingest = new CacheLayout(cache).ingest();
        if (Files.isDirectory(ingest)) {
            try (Stream<Path> left = Files.list(ingest)) {
                assertEquals(List.of(), left.toList(), "no unfinished download is left behind");
            }
        }
    }

    private static String sha256Hex(Path file) throws Exception {
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        try (InputStream in = new DigestInputStream(Files.newInputStream(file), sha)) {
            in.transferTo(java.io.OutputStream.nullOutputStream());
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    /** Mounts a tmpfs of {@code size} on {@code dir}; null when done, else why it could not be. */
    private static String mount(Path dir, String size) throws InterruptedException {
        if (!"root".equals(System.getProperty("user.name"))) {
            return "mounting a tmpfs needs root, the tests run as " + System.getProperty("user.name");
        }
        try {
            Process mount = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", dir.toString())
                    .redirectErrorStream(true).start();
            if (!mount.waitFor(30, TimeUnit.SECONDS)) {
                mount.destroyForcibly();
                return "mount did not finish within 30 s";
            }
            String output = new String(mount.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            return mount.exitValue() == 0 ? null : "mount -t tmpfs failed (" + mount.exitValue() + "): " + output;
        } catch (IOException e) {
            return "cannot run mount: " + e.getMessage();
        }
    }

    private static String scrape(MirrorFixture mirror) throws Exception {
        return new String(mirror.get("/metrics").body(), StandardCharsets.UTF_8);
    }

    /** The sum of the series of this name. */
    private static long value(String scrape, String name) {
        double sum = 0;
        for (String line : scrape.split("\n")) {
            if (line.startsWith(name + "{") || line.startsWith(name + " ")) {
                sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return Math.round(sum);
    }
}
