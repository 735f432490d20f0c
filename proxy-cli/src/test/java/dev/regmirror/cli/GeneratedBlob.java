package dev.regmirror.cli;

import dev.regmirror.core.reference.Digest;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.SplittableRandom;

/**
 * A large blob of pseudo-random bytes made on the fly (never held in memory), and its monolithic
 * upload to a registry through the distribution API.
 */
final class GeneratedBlob {

    private final long size;
    private final long seed;

    GeneratedBlob(long size, long seed) {
        this.size = size;
        this.seed = seed;
    }

    long size() {
        return size;
    }

    InputStream open() {
        return new InputStream() {
            private final SplittableRandom random = new SplittableRandom(seed);
            private final byte[] word = new byte[8];
            private long position;

            @Override
            public int read() {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] buffer, int offset, int length) {
                if (position >= size) {
                    return -1;
                }
                int n = (int) Math.min(length, size - position);
                for (int i = 0; i < n; i++) {
                    int inWord = (int) (position & 7);
                    if (inWord == 0) {
                        long value = random.nextLong();
                        for (int b = 0; b < 8; b++) {
                            word[b] = (byte) (value >>> (8 * b));
                        }
                    }
                    buffer[offset + i] = word[inWord];
                    position++;
                }
                return n;
            }
        };
    }

    Digest digest() throws IOException {
        return digestOf(open());
    }

    static Digest digestOf(InputStream in) throws IOException {
        try (in) {
            MessageDigest sha = Digest.sha256Of(new byte[0]).newHasher();
            byte[] buffer = new byte[1 << 16];
            int n;
            while ((n = in.read(buffer)) > 0) {
                sha.update(buffer, 0, n);
            }
            return new Digest("sha256", HexFormat.of().formatHex(sha.digest()));
        }
    }

    /** Uploads the blob to {@code registry} under {@code repository} in one PUT; returns its digest. */
    Digest uploadTo(URI registry, String repository) throws IOException, InterruptedException {
        Digest digest = digest();
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        HttpResponse<Void> started = http.send(HttpRequest.newBuilder(registry.resolve("/v2/" + repository + "/blobs/uploads/"))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.discarding());
        if (started.statusCode() != 202) {
            throw new IOException("upload start answered " + started.statusCode());
        }
        URI location = registry.resolve(started.headers().firstValue("Location").orElseThrow());
        String separator = location.getQuery() == null ? "?" : "&";
        HttpResponse<String> put = http.send(HttpRequest.newBuilder(URI.create(location + separator + "digest=" + digest))
                .header("Content-Type", "application/octet-stream")
                .PUT(HttpRequest.BodyPublishers.fromPublisher(HttpRequest.BodyPublishers.ofInputStream(this::open), size))
                .build(), HttpResponse.BodyHandlers.ofString());
        if (put.statusCode() != 201) {
            throw new IOException("upload answered " + put.statusCode() + ": " + put.body());
        }
        return digest;
    }
}
