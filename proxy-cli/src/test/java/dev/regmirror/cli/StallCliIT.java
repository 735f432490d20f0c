package dev.regmirror.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.regmirror.core.manifest.MediaTypes;
import dev.regmirror.core.reference.Digest;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The built jar against a server that goes quiet: every command gives up after its
 * {@code --timeout} with one line naming what it waited for, instead of waiting forever, and an
 * export leaves no partial file behind.
 */
class StallCliIT {

    @TempDir
    Path work;

    private final byte[] config = "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}"
            .getBytes(StandardCharsets.UTF_8);
    private final byte[] layer = new byte[300_000];
    private final byte[] manifest;

    StallCliIT() {
        new Random(5).nextBytes(layer);
        manifest = ("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",\"config\":{\"mediaType\":"
                + "\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" + Digest.sha256Of(config) + "\",\"size\":"
                + config.length + "},\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\""
                + Digest.sha256Of(layer) + "\",\"size\":" + layer.length + "}]}").getBytes(StandardCharsets.UTF_8);
    }

    private static String oneLine(RegmirrorProcess.Finished finished) {
        assertEquals(1, finished.exitCode(), finished.output());
        assertEquals(1, finished.output().lines().count(), finished.output());
        return finished.output().strip();
    }

    @Test
    void anExportGivesUpOnABlobThatStopsHalfway() throws Exception {
        String blobPath = "/v2/app/blobs/" + Digest.sha256Of(layer);
        try (StallingServer mirror = new StallingServer()
                .answer("/v2/app/manifests/1.0", MediaTypes.OCI_MANIFEST, manifest)
                .answer("/v2/app/blobs/" + Digest.sha256Of(config), "application/octet-stream", config)
                .stall(blobPath, StallingServer.Stall.HALF_BODY, layer)) {
            Path tar = work.resolve("app.tar");
            RegmirrorProcess.Finished export = RegmirrorProcess.run(work, List.of(), "export", "app:1.0", "-o",
                    tar.toString(), "--registry", mirror.uri().toString(), "--timeout", "2s");
            assertEquals("regmirror: export of app:1.0 to " + tar + " failed: the mirror at " + mirror.uri()
                    + " sent nothing for 2s while sending GET " + blobPath, oneLine(export));
            assertFalse(Files.exists(tar), "the partial archive is removed");
        }
    }

    @Test
    void anExportGivesUpOnAMirrorThatNeverAnswers() throws Exception {
        try (StallingServer mirror = new StallingServer()
                .stall("/v2/app/manifests/1.0", StallingServer.Stall.NO_ANSWER, manifest)) {
            RegmirrorProcess.Finished export = RegmirrorProcess.run(work, List.of(), "export", "app:1.0", "-o",
                    work.resolve("app.tar").toString(), "--registry", mirror.uri().toString(), "--timeout", "2s");
            assertEquals("regmirror: the mirror at " + mirror.uri() + " did not answer GET "
                    + "/v2/app/manifests/1.0 within 2s", oneLine(export));
        }
    }

    @Test
    void anAdminCommandGivesUpOnNoAnswerAndOnAnAnswerThatStops() throws Exception {
        try (StallingServer admin = new StallingServer()
                .stall("/admin/usage", StallingServer.Stall.NO_ANSWER, new byte[0])
                .stall("/admin/jobs", StallingServer.Stall.HALF_BODY, "{\"jobs\":[]}".getBytes(StandardCharsets.UTF_8))) {
            RegmirrorProcess.Finished usage = RegmirrorProcess.run(work, List.of(), "usage", "--server",
                    admin.uri().toString(), "--timeout", "2s");
            assertEquals("regmirror: the admin API at " + admin.uri() + " did not answer /admin/usage within 2s",
                    oneLine(usage));

            RegmirrorProcess.Finished jobs = RegmirrorProcess.run(work, List.of(), "jobs", "--server",
                    admin.uri().toString(), "--timeout", "2s");
            assertEquals("regmirror: the admin API at " + admin.uri() + " sent nothing for 2s while sending its answer"
                    + " to /admin/jobs", oneLine(jobs));
        }
    }

    @Test
    void anImportGivesUpOnAServerThatStopsReadingOrNeverAnswers() throws Exception {
        Path archive = work.resolve("big.tar");
        try (RandomAccessFile file = new RandomAccessFile(archive.toFile(), "rw")) {
            file.setLength(64L * 1024 * 1024); // more than the socket buffers hold
        }
        try (StallingServer unread = new StallingServer()
                .stall("/admin/import", StallingServer.Stall.BODY_UNREAD, new byte[0])) {
            RegmirrorProcess.Finished imported = RegmirrorProcess.run(work, List.of(), "import", archive.toString(),
                    "--server", unread.uri().toString(), "--timeout", "2s");
            assertEquals("regmirror: the admin API at " + unread.uri() + " took nothing more of the upload for "
                    + "POST /admin/import for 2s", oneLine(imported));
        }
        try (StallingServer silent = new StallingServer()
                .stall("/admin/import", StallingServer.Stall.NO_ANSWER_AFTER_BODY, new byte[0])) {
            RegmirrorProcess.Finished imported = RegmirrorProcess.run(work, List.of(), "import", archive.toString(),
                    "--server", silent.uri().toString(), "--timeout", "2s");
            assertEquals("regmirror: the admin API at " + silent.uri() + " did not answer POST /admin/import within 2s"
                    + " of the end of the upload", oneLine(imported));
        }
    }

    @Test
    void prefetchWaitGivesUpOnARunningJobWithoutProgress() throws Exception {
        byte[] job = ("{\"id\":\"j1\",\"image\":\"docker.io/library/app:1.0\",\"state\":\"running\",\"bytesDone\":1000,"
                + "\"bytesTotal\":5000,\"blobsDone\":1,\"blobsTotal\":3}").getBytes(StandardCharsets.UTF_8);
        try (StallingServer admin = new StallingServer()
                .answer("/admin/prefetch", "application/json", job)
                .answer("/admin/jobs/j1", "application/json", job)) {
            RegmirrorProcess.Finished prefetch = RegmirrorProcess.run(work, List.of(), "prefetch", "app:1.0", "--wait",
                    "--server", admin.uri().toString(), "--timeout", "2s");
            assertEquals(1, prefetch.exitCode(), prefetch.output());
            List<String> lines = prefetch.output().lines().toList();
            assertEquals("docker.io/library/app:1.0 [######........................] 1.00 kB / 5.00 kB  1/3 blobs  0 B/s",
                    lines.get(0), "the progress it saw");
            assertEquals("regmirror: prefetch job j1 of docker.io/library/app:1.0 made no progress for 2s; it goes on"
                    + " in the mirror (regmirror jobs j1 shows it)", lines.get(lines.size() - 1));
        }
    }
}
