package dev.regmirror.core.storage.s3;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.regmirror.core.config.S3Settings;
import dev.regmirror.core.config.SettingsException;
import dev.regmirror.core.testing.Closing;
import dev.regmirror.core.testing.S3ProxyProcess;
import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link S3Objects} against a real S3 server (S3Proxy on loopback): what the storage code relies on. */
class S3ObjectsIT {

    private static final String BUCKET = "regmirror";
    private static S3ProxyProcess s3;
    private static S3Objects objects;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() {
        s3 = S3ProxyProcess.start();
        s3.createBucket(BUCKET);
        objects = S3Objects.open(settings(s3.endpoint(), BUCKET, S3ProxyProcess.SECRET_KEY, "mirror/"));
        objects.checkBucket();
    }

    @AfterAll
    static void stop() throws Exception {
        Closing.all(objects, s3);
    }

    private static S3Settings settings(URI endpoint, String bucket, String secret, String prefix) {
        return new S3Settings(Optional.of(endpoint), "us-east-1", bucket, prefix, true,
                Optional.of(S3ProxyProcess.ACCESS_KEY), Optional.of(secret), Optional.empty(), S3Settings.MIN_PART_SIZE,
                false, Duration.ofMinutes(5), Duration.ofSeconds(1));
    }

    private static byte[] random(int size, long seed) {
        byte[] bytes = new byte[size];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    @Test
    void smallObjectsAreWrittenReadListedAndDeletedUnderThePrefix() {
        objects.write("manifests/a", "{\"a\":1}".getBytes(StandardCharsets.UTF_8), "application/json");
        objects.write("manifests/b", "{\"b\":2}".getBytes(StandardCharsets.UTF_8), "application/json");
        assertEquals("{\"a\":1}", new String(objects.read("manifests/a").orElseThrow(), StandardCharsets.UTF_8));
        assertEquals(7, objects.head("manifests/b").orElseThrow().size());
        assertEquals(List.of("manifests/a", "manifests/b"),
                objects.list("manifests/").stream().map(S3Objects.ObjectInfo::key).toList());
        assertTrue(s3.storedKeys(BUCKET).contains("mirror/manifests/a"), s3.storedKeys(BUCKET).toString());

        objects.delete("manifests/a");
        objects.delete("manifests/a");
        assertTrue(objects.read("manifests/a").isEmpty());
        assertTrue(objects.head("manifests/a").isEmpty());
        assertEquals(List.of("manifests/b"), objects.list("manifests/").stream().map(S3Objects.ObjectInfo::key).toList());
    }

    @Test
    void aRangeIsReadFromTheStore() throws IOException {
        byte[] bytes = random(300_000, 1);
        objects.write("blobs/ranged", bytes, "application/octet-stream");
        try (InputStream in = objects.open("blobs/ranged", 1000, 1999).orElseThrow()) {
            assertArrayEquals(Arrays.copyOfRange(bytes, 1000, 2000), in.readAllBytes());
        }
        try (InputStream in = objects.open("blobs/ranged", 299_990, 299_999).orElseThrow()) {
            assertArrayEquals(Arrays.copyOfRange(bytes, 299_990, 300_000), in.readAllBytes());
        }
        assertTrue(objects.open("blobs/none", 0, 9).isEmpty());
    }

    @Test
    void aMultipartUploadAppearsOnlyWhenCompletedAndNeverWhenAborted() throws IOException {
        byte[] bytes = random((int) S3Settings.MIN_PART_SIZE + 123_456, 2);
        Path file = dir.resolve("spool");
        Files.write(file, bytes);

        S3Upload upload = objects.beginUpload("blobs/whole", "application/octet-stream");
        upload.part(file, 0, S3Settings.MIN_PART_SIZE);
        upload.part(file, S3Settings.MIN_PART_SIZE, bytes.length - S3Settings.MIN_PART_SIZE);
        assertEquals(bytes.length, upload.bytes());
        assertTrue(objects.head("blobs/whole").isEmpty(), "visible before completion");
        upload.complete();
        try (InputStream in = objects.open("blobs/whole", 0, bytes.length - 1).orElseThrow()) {
            assertArrayEquals(bytes, in.readAllBytes());
        }

        S3Upload dropped = objects.beginUpload("blobs/dropped", "application/octet-stream");
        dropped.part(file, 0, S3Settings.MIN_PART_SIZE);
        dropped.abort();
        dropped.abort();
        assertTrue(objects.head("blobs/dropped").isEmpty());
        assertEquals(0, objects.abortUploadsStartedBefore(Instant.now().plusSeconds(60)));
    }

    @Test
    void leftoverUploadsAreAbortedAndNeverAppear() {
        S3Upload leftover = objects.beginUpload("blobs/leftover", "application/octet-stream");
        assertEquals(0, objects.abortUploadsStartedBefore(Instant.now().minusSeconds(3600)), "a young upload is kept");
        assertEquals(1, objects.abortUploadsStartedBefore(Instant.now().plusSeconds(60)));
        assertThrows(S3StoreException.class, leftover::complete);
        assertTrue(objects.head("blobs/leftover").isEmpty());
    }

    @Test
    void aPresignedUrlFetchesTheObjectWithoutCredentials() throws Exception {
        byte[] bytes = random(70_000, 3);
        objects.write("blobs/shared", bytes, "application/octet-stream");
        URI url = objects.presign("blobs/shared", Duration.ofMinutes(1));
        assertFalse(url.toString().contains(S3ProxyProcess.SECRET_KEY));
        HttpResponse<byte[]> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(url).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(200, response.statusCode());
        assertArrayEquals(bytes, response.body());

        HttpResponse<byte[]> unsigned = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create(url.toString().substring(0, url.toString().indexOf('?')))).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(403, unsigned.statusCode());
    }

    @Test
    void startUpChecksNameTheSettingAndTheStoresAnswer() throws IOException {
        try (S3Objects missing = S3Objects.open(settings(s3.endpoint(), "no-such-bucket", S3ProxyProcess.SECRET_KEY, ""))) {
            SettingsException e = assertThrows(SettingsException.class, missing::checkBucket);
            assertTrue(e.getMessage().startsWith("regmirror.storage.s3.bucket: bucket \"no-such-bucket\" does not exist at "
                    + s3.endpoint()), e.getMessage());
        }
        try (S3Objects refused = S3Objects.open(settings(s3.endpoint(), BUCKET, "wrong-secret", ""))) {
            SettingsException e = assertThrows(SettingsException.class, refused::checkBucket);
            assertTrue(e.getMessage().startsWith("regmirror.storage.s3.access-key: the store refused"), e.getMessage());
            assertFalse(e.getMessage().contains("wrong-secret"));
        }
        int closed;
        try (ServerSocket socket = new ServerSocket(0)) {
            closed = socket.getLocalPort();
        }
        try (S3Objects unreachable = S3Objects.open(settings(URI.create("http://127.0.0.1:" + closed), BUCKET,
                S3ProxyProcess.SECRET_KEY, ""))) {
            SettingsException e = assertThrows(SettingsException.class, unreachable::checkBucket);
            assertTrue(e.getMessage().startsWith("regmirror.storage.s3.endpoint: cannot reach http://127.0.0.1:" + closed),
                    e.getMessage());
        }
    }
}
