package dev.regmirror.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.regmirror.core.manifest.Descriptor;
import dev.regmirror.core.manifest.MediaTypes;
import dev.regmirror.core.testing.BuiltImage;
import dev.regmirror.core.testing.RegistryProcess;
import dev.regmirror.core.testing.Skopeo;
import dev.regmirror.core.testing.TestImages;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code /metrics} after real pulls through the mirror from a real registry: a cold pull counts
 * every blob as a miss, fetched from the upstream and served as it came; a warm pull counts them as
 * hits served from the cache; requests are counted by route and status, upstream requests by
 * operation and outcome; no download is left in flight.
 */
class MetricsIT {

    @TempDir
    Path work;

    @Test
    void coldAndWarmPullsAreCountedByWhereTheBytesCameFrom() throws Exception {
        BuiltImage image = TestImages.singleArch(work.resolve("img"), "1", 3, 50_000, 41);
        long blobBytes = image.blobs().stream().mapToLong(Descriptor::size).sum();
        int blobs = image.blobs().size();
        try (RegistryProcess upstream = RegistryProcess.start();
             Skopeo skopeo = new Skopeo();
             MirrorFixture mirror = MirrorFixture.start(upstream.url(), work.resolve("cache"), Map.of())) {
            skopeo.copy(image.source(), "docker://" + upstream.hostPort() + "/library/app:1");
            skopeo.copyToDir("docker://" + mirror.hostPort() + "/app:1", work.resolve("cold"));

            String cold = scrape(mirror);
            assertEquals(blobs, value(cold, "regmirror_blob_requests_total", "result=\"miss\"", "upstream=\"docker.io\""), cold);
            assertEquals(0, value(cold, "regmirror_blob_requests_total", "result=\"hit\""), cold);
            assertEquals(blobBytes + image.top().size(), value(cold, "regmirror_upstream_bytes_total", "upstream=\"docker.io\""),
                    "every blob and the manifest, once");
            assertEquals(blobBytes, value(cold, "regmirror_served_bytes_total", "source=\"upstream\"", "upstream=\"docker.io\""), cold);
            assertEquals(blobs, value(cold, "regmirror_upstream_requests_seconds_count", "operation=\"blob_get\"",
                    "outcome=\"ok\"", "upstream=\"docker.io\""), cold);
            assertEquals(1, value(cold, "regmirror_manifest_requests_total", "result=\"miss\""), cold);
            assertEquals(0, value(cold, "regmirror_fills_inflight"), cold);

            skopeo.copyToDir("docker://" + mirror.hostPort() + "/app:1", work.resolve("warm"));
            assertEquals(404, mirror.get("/v2/app/manifests/nope", "Accept", MediaTypes.OCI_MANIFEST).statusCode());

            String warm = scrape(mirror);
            assertEquals(blobs, value(warm, "regmirror_blob_requests_total", "result=\"hit\"", "upstream=\"docker.io\""), warm);
            assertEquals(blobs, value(warm, "regmirror_blob_requests_total", "result=\"miss\""), "no new download");
            assertEquals(blobBytes, value(warm, "regmirror_served_bytes_total", "source=\"cache\"", "upstream=\"docker.io\""), warm);
            assertEquals(blobBytes + image.top().size(), value(warm, "regmirror_upstream_bytes_total"), "nothing more fetched");
            assertEquals(2 * blobs, value(warm, "regmirror_requests_seconds_count", "route=\"blob\"", "method=\"GET\"",
                    "status=\"200\""), warm);
            assertEquals(1, value(warm, "regmirror_requests_seconds_count", "route=\"manifest\"", "status=\"404\""), warm);
            assertEquals(1, value(warm, "regmirror_upstream_requests_seconds_count", "operation=\"manifest_head\"",
                    "outcome=\"404\""), warm);
            assertTrue(value(warm, "regmirror_cache_disk_free_bytes") > 0, warm);
        }
    }

    private static String scrape(MirrorFixture mirror) throws Exception {
        return new String(mirror.get("/metrics").body(), StandardCharsets.UTF_8);
    }

    /** The sum of the series of this name whose labels include all of {@code labels}. */
    private static long value(String scrape, String name, String... labels) {
        double sum = 0;
        for (String line : scrape.split("\n")) {
            if (line.startsWith("#") || !(line.startsWith(name + "{") || line.startsWith(name + " "))) {
                continue;
            }
            boolean matches = true;
            for (String label : labels) {
                matches &= line.contains(label);
            }
            if (matches) {
                sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return Math.round(sum);
    }
}
