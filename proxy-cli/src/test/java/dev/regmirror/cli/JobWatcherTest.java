package dev.regmirror.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

/** The progress line {@code regmirror prefetch --wait} draws. */
class JobWatcherTest {

    private static JsonNode job(long done, long total, int blobsDone, int blobsTotal) throws Exception {
        return new ObjectMapper().readTree("{\"image\":\"docker.io/team/web:1.4\",\"bytesDone\":" + done
                + ",\"bytesTotal\":" + total + ",\"blobsDone\":" + blobsDone + ",\"blobsTotal\":" + blobsTotal + "}");
    }

    @Test
    void theBarFillsWithTheBytesDone() throws Exception {
        assertEquals("docker.io/team/web:1.4 [###############...............] 3.50 MB / 7.00 MB  2/5 blobs  41.2 MB/s",
                JobWatcher.line(job(3_500_000, 7_000_000, 2, 5), "41.2 MB/s"));
        assertEquals("docker.io/team/web:1.4 [##############################] 7.00 MB / 7.00 MB  5/5 blobs  ",
                JobWatcher.line(job(7_000_000, 7_000_000, 5, 5), ""));
    }

    @Test
    void anUnknownTotalDrawsAnEmptyBar() throws Exception {
        assertEquals("docker.io/team/web:1.4 [..............................] 0 B / ?  0/0 blobs  ",
                JobWatcher.line(job(0, 0, 0, 0), ""));
    }
}
