package dev.regmirror.core.verify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.regmirror.core.blob.BlobStore;
import dev.regmirror.core.blob.FileBlobStore;
import dev.regmirror.core.blob.ManifestStore;
import dev.regmirror.core.manifest.ManifestBytes;
import dev.regmirror.core.manifest.MediaTypes;
import dev.regmirror.core.reference.Digest;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A verify over a real FileBlobStore whose files were damaged on disk. */
class CacheVerifyTest {

    private static final Instant NOW = Instant.parse("2026-12-03T08:30:00Z");

    @TempDir
    Path dir;

    private final SimpleMeterRegistry metrics = new SimpleMeterRegistry();

    private static byte[] random(int size, long seed) {
        byte[] bytes = new byte[size];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    private static void flipByte(Path file, long at) throws IOException {
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.seek(at);
            int b = raf.read();
            raf.seek(at);
            raf.write(b ^ 0x01);
        }
    }

    private CacheVerify verify(BlobStore store, ManifestStore manifests) {
        return new CacheVerify(store, manifests, Long.MAX_VALUE / 4, Clock.fixed(NOW, ZoneOffset.UTC), System::nanoTime,
                nanos -> { }, metrics);
    }

    private static ManifestBytes imageManifest(Digest config, Digest... layers) {
        StringBuilder json = new StringBuilder("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_MANIFEST
                + "\",\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" + config
                + "\",\"size\":1},\"layers\":[");
        for (int i = 0; i < layers.length; i++) {
            json.append(i == 0 ? "" : ",").append("{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\","
                    + "\"digest\":\"").append(layers[i]).append("\",\"size\":1}");
        }
        byte[] bytes = json.append("]}").toString().getBytes(StandardCharsets.UTF_8);
        return new ManifestBytes(MediaTypes.OCI_MANIFEST, Digest.sha256Of(bytes), bytes);
    }

    @Test
    void aBlobWithAFlippedByteIsQuarantinedNeverServedAgainAndCounted() throws Exception {
        try (FileBlobStore store = FileBlobStore.open(dir)) {
            ManifestStore manifests = new ManifestStore(store, store.layout());
            byte[] good = random(300_000, 1);
            byte[] rotten = random(700_000, 2);
            Digest goodDigest = store.put(Digest.sha256Of(good), good).digest();
            Digest rottenDigest = store.put(Digest.sha256Of(rotten), rotten).digest();
            Digest absent = Digest.sha256Of(random(10, 3));
            ManifestBytes manifest = imageManifest(goodDigest, rottenDigest, absent);
            manifests.put(manifest);
            flipByte(store.pathOf(rottenDigest), 500_000);
            // A client that has the blob open while it is moved keeps reading its file.
            BlobStore.Checked reader = store.openForCheck(rottenDigest).orElseThrow();

            VerifyProgress progress = new VerifyProgress();
            VerifyReport report = verify(store, manifests).run(progress);

            assertEquals(1, report.corrupt().size(), report.toString());
            VerifyReport.Corrupt corrupt = report.corrupt().get(0);
            assertEquals(rottenDigest, corrupt.digest());
            assertEquals(rotten.length, corrupt.size());
            assertFalse(corrupt.hosted());
            assertEquals("its bytes do not hash to its digest", corrupt.problem());
            assertEquals(store.root().resolve("quarantine/sha256/" + rottenDigest.hex() + "-20261203T083000.000Z")
                    .toString(), corrupt.quarantinedAs());
            assertTrue(Files.isRegularFile(Path.of(corrupt.quarantinedAs())));
            assertFalse(Files.exists(store.pathOf(rottenDigest)));
            assertFalse(store.index().contains(rottenDigest), "out of the index");
            assertTrue(store.find(rottenDigest).isEmpty(), "never served again");
            assertTrue(store.find(goodDigest).isPresent(), "a good blob stays");
            assertEquals(1.0, metrics.get("regmirror.cache.corrupt.blobs").counter().count());
            assertEquals(List.of(new VerifyReport.Missing(manifest.digest(), VerifyReport.Kind.blob, rottenDigest, false),
                    new VerifyReport.Missing(manifest.digest(), VerifyReport.Kind.blob, absent, false)), report.missing());
            assertEquals(2, report.missingTotal());
            assertEquals(0, report.hostedMissingTotal());
            assertTrue(report.damaged());
            assertEquals(3, progress.blobsTotal(), "two blobs and the manifest's bytes");
            assertEquals(3, progress.blobsChecked());
            assertEquals(good.length + rotten.length + manifest.bytes().length, progress.bytesHashed());
            assertEquals(1, progress.manifestsChecked());
            assertEquals(1, progress.corrupt());

            ByteBuffer all = ByteBuffer.allocate(rotten.length);
            while (all.hasRemaining() && reader.content().read(all) >= 0) {
                // read on
            }
            reader.close();
            assertEquals(rotten.length, all.position(), "the open file kept working");

            // A later commit of the right bytes (a pull refetching) caches it again; a second verify finds nothing.
            store.put(rottenDigest, rotten);
            VerifyReport again = verify(store, manifests).run(new VerifyProgress());
            assertEquals(List.of(), again.corrupt());
            assertEquals(1, again.missingTotal());
            assertFalse(again.damaged());
            assertEquals(1.0, metrics.get("regmirror.cache.corrupt.blobs").counter().count());
        }
    }

    @Test
    void aReadTheRemoteStoreFailsEndsTheVerifyAndMovesNothing() throws Exception {
        try (FileBlobStore store = FileBlobStore.open(dir)) {
            ManifestStore manifests = new ManifestStore(store, store.layout());
            byte[] bytes = random(100_000, 7);
            Digest digest = store.put(Digest.sha256Of(bytes), bytes).digest();
            // A bucket whose connection resets halfway through the object: the store's fault, not the blob's.
            ReadableByteChannel resetting = new ReadableByteChannel() {
                private boolean first = true;

                @Override
                public int read(ByteBuffer into) throws IOException {
                    if (!first) {
                        throw new IOException("Connection reset");
                    }
                    first = false;
                    into.put(bytes, 0, 1000);
                    return 1000;
                }

                @Override
                public boolean isOpen() {
                    return true;
                }

                @Override
                public void close() {
                }
            };
            BlobStore remote = (BlobStore) Proxy.newProxyInstance(BlobStore.class.getClassLoader(),
                    new Class<?>[] {BlobStore.class}, (proxy, method, args) -> {
                        if (method.getName().equals("openForCheck")) {
                            return Optional.of(new BlobStore.Checked(resetting, "\"etag\"", bytes.length, false));
                        }
                        try {
                            return method.invoke(store, args);
                        } catch (InvocationTargetException e) {
                            throw e.getCause();
                        }
                    });

            IOException failed = assertThrows(IOException.class,
                    () -> verify(remote, manifests).run(new VerifyProgress()));

            assertEquals("read blob " + digest + " from the store: Connection reset", failed.getMessage());
            assertTrue(store.index().contains(digest), "still cached: nothing is known to be wrong with it");
            assertTrue(store.has(digest));
            assertFalse(Files.exists(store.quarantineDirectory().resolve("sha256")), "nothing quarantined");
            assertEquals(0.0, metrics.get("regmirror.cache.corrupt.blobs").counter().count());
        }
    }

    @Test
    void aCorruptHostedBlobIsQuarantinedAndReportedAsHosted() throws Exception {
        try (FileBlobStore store = FileBlobStore.open(dir)) {
            ManifestStore manifests = new ManifestStore(store, store.layout());
            byte[] layer = random(50_000, 4);
            Digest digest = store.put(Digest.sha256Of(layer), layer).digest();
            ManifestBytes manifest = imageManifest(digest);
            manifests.put(manifest);
            store.index().retain(digest);
            store.index().retain(manifest.digest());
            flipByte(store.pathOf(digest), 0);

            VerifyReport report = verify(store, manifests).run(new VerifyProgress());

            assertEquals(1, report.corrupt().size());
            assertTrue(report.corrupt().get(0).hosted());
            assertEquals(List.of(new VerifyReport.Missing(manifest.digest(), VerifyReport.Kind.blob, digest, true)),
                    report.missing());
            assertEquals(1, report.hostedMissingTotal());
            assertFalse(store.index().contains(digest));
        }
    }

    @Test
    void reportsMissingChildrenAndIngestLeftoversFromBeforeTheStartWithoutRemovingThem() throws Exception {
        try (FileBlobStore store = FileBlobStore.open(dir)) {
            ManifestStore manifests = new ManifestStore(store, store.layout());
            ManifestBytes child = imageManifest(store.put(Digest.sha256Of(new byte[] {1}), new byte[] {1}).digest());
            manifests.put(child);
            Digest absentChild = Digest.sha256Of(random(5, 5));
            byte[] index = ("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_INDEX + "\",\"manifests\":["
                    + "{\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",\"digest\":\"" + child.digest() + "\",\"size\":1},"
                    + "{\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",\"digest\":\"" + absentChild + "\",\"size\":1}]}")
                    .getBytes(StandardCharsets.UTF_8);
            Digest indexDigest = Digest.sha256Of(index);
            manifests.put(new ManifestBytes(MediaTypes.OCI_INDEX, indexDigest, index));
            Path old = Files.write(store.layout().ingest().resolve("abc-leftover"), new byte[42]);
            Files.setLastModifiedTime(old, FileTime.from(store.opened().minusSeconds(60)));
            Files.write(store.layout().ingest().resolve("def-running"), new byte[7]);

            VerifyReport report = verify(store, manifests).run(new VerifyProgress());

            assertEquals(List.of(new VerifyReport.Missing(indexDigest, VerifyReport.Kind.child, absentChild, false)),
                    report.missing());
            assertEquals(1, report.ingestLeftovers().size());
            assertEquals("abc-leftover", report.ingestLeftovers().get(0).name());
            assertEquals(42, report.ingestLeftovers().get(0).size());
            assertTrue(Files.exists(old), "only reported");
            assertFalse(report.damaged());
        }
    }

    @Test
    void aBlobTheDiskFailsToReadIsQuarantinedToo() throws Exception {
        try (FileBlobStore store = FileBlobStore.open(dir)) {
            ManifestStore manifests = new ManifestStore(store, store.layout());
            byte[] bytes = random(1000, 6);
            Digest digest = store.put(Digest.sha256Of(bytes), bytes).digest();
            // Reading a directory fails as a bad sector's EIO would: an IOException from read().
            Files.delete(store.pathOf(digest));
            Files.createDirectory(store.pathOf(digest));

            VerifyReport report = verify(store, manifests).run(new VerifyProgress());

            assertEquals(1, report.corrupt().size(), report.toString());
            assertTrue(report.corrupt().get(0).problem().startsWith("unreadable: java.io.IOException"),
                    report.corrupt().get(0).problem());
            assertTrue(Files.isDirectory(Path.of(report.corrupt().get(0).quarantinedAs())));
            assertFalse(store.index().contains(digest));
            assertFalse(Files.exists(store.pathOf(digest)));
        }
    }

    @Test
    void readsNoFasterThanTheRate() throws Exception {
        AtomicLong clock = new AtomicLong();
        AtomicLong slept = new AtomicLong();
        ReadPacer pacer = new ReadPacer(1_000_000, clock::get, nanos -> {
            slept.addAndGet(nanos);
            clock.addAndGet(nanos);
        });
        pacer.read(500_000);
        assertEquals(500_000_000L, slept.get(), "half a second for half the rate");
        clock.addAndGet(2_000_000_000L);
        pacer.read(1_000_000);
        assertEquals(500_000_000L, slept.get(), "behind the rate: no wait");
        pacer.read(2_000_000);
        assertEquals(1_500_000_000L, slept.get(), "3.5 MB due at 3.5 s, 2.5 s had passed: one more second");
    }

    @Test
    void aSecondRequestWhileOneRunsGetsTheRunningJob() throws Exception {
        try (FileBlobStore store = FileBlobStore.open(dir)) {
            ManifestStore manifests = new ManifestStore(store, store.layout());
            java.util.ArrayDeque<Runnable> queued = new java.util.ArrayDeque<>();
            AtomicLong ids = new AtomicLong();
            VerifyJobs jobs = new VerifyJobs(verify(store, manifests), 123, queued::add,
                    Clock.fixed(NOW, ZoneOffset.UTC), () -> "v" + ids.incrementAndGet(), 2);

            VerifyJobs.Submitted first = jobs.submit();
            VerifyJobs.Submitted second = jobs.submit();
            assertTrue(first.started());
            assertFalse(second.started());
            assertEquals(first.job().id(), second.job().id());
            assertEquals(VerifyJob.State.running, jobs.get("v1").orElseThrow().state());
            assertEquals(1, queued.size());

            queued.poll().run();
            VerifyJob.Status done = jobs.get("v1").orElseThrow();
            assertEquals(VerifyJob.State.succeeded, done.state());
            assertTrue(done.report().isPresent());
            assertEquals(123, done.bytesPerSecond());
            VerifyJobs.Submitted third = jobs.submit();
            assertTrue(third.started());
            assertEquals(List.of("v2", "v1"), jobs.list().stream().map(VerifyJob.Status::id).toList());
        }
    }
}
