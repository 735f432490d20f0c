package dev.regmirror.core.storage.s3;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CompletedPart;

/**
 * One multipart upload: parts sent in order from a region of a local file, then completed (the
 * object appears whole under its key) or aborted (nothing appears and the parts are dropped).
 * Not for concurrent use.
 */
public final class S3Upload {

    private final S3Client client;
    private final String bucket;
    private final String fullKey;
    private final String key;
    private final String uploadId;
    private final List<CompletedPart> parts = new ArrayList<>();
    private long bytes;
    private boolean ended;

    S3Upload(S3Client client, String bucket, String fullKey, String key, String uploadId) {
        this.client = client;
        this.bucket = bucket;
        this.fullKey = fullKey;
        this.key = key;
        this.uploadId = uploadId;
    }

    /** The key the object will have, relative to the prefix. */
    public String key() {
        return key;
    }

    /** How many bytes the parts sent so far hold. */
    public long bytes() {
        return bytes;
    }

    /**
     * Sends the next part: {@code length} bytes of {@code file} from {@code offset}. Every part but
     * the last must hold at least 5 MiB. The file region is read again if the SDK retries.
     */
    public void part(Path file, long offset, long length) {
        if (ended) {
            throw new IllegalStateException("upload of " + key + " has ended");
        }
        int number = parts.size() + 1;
        try {
            String eTag = client.uploadPart(b -> b.bucket(bucket).key(fullKey).uploadId(uploadId).partNumber(number)
                    .contentLength(length), RequestBody.fromContentProvider(
                            () -> new RegionStream(file, offset, length), length, "application/octet-stream")).eTag();
            parts.add(CompletedPart.builder().partNumber(number).eTag(eTag).build());
            bytes += length;
        } catch (SdkException | RegionStream.Unreadable e) {
            throw new S3StoreException("upload part " + number + " of " + key + ": " + e.getMessage(), e);
        }
    }

    /** Makes the object visible under its key, whole. */
    public void complete() {
        if (ended) {
            throw new IllegalStateException("upload of " + key + " has ended");
        }
        try {
            client.completeMultipartUpload(b -> b.bucket(bucket).key(fullKey).uploadId(uploadId)
                    .multipartUpload(m -> m.parts(parts)));
            ended = true;
        } catch (SdkException e) {
            throw new S3StoreException("complete upload of " + key + ": " + e.getMessage(), e);
        }
    }

    /** Drops the upload and its parts; nothing appears under the key. Safe to call more than once. */
    public void abort() {
        if (ended) {
            return;
        }
        ended = true;
        try {
            client.abortMultipartUpload(b -> b.bucket(bucket).key(fullKey).uploadId(uploadId));
        } catch (SdkException e) {
            // Left for the periodic clean-up of leftover uploads.
            throw new S3StoreException("abort upload of " + key + ": " + e.getMessage(), e);
        }
    }

    /** {@code length} bytes of a file from an offset, read with positional reads. */
    private static final class RegionStream extends InputStream {

        /** The region could not be opened. */
        static final class Unreadable extends RuntimeException {
            private static final long serialVersionUID = 1L;

            Unreadable(IOException cause) {
                super(cause.toString(), cause);
            }
        }

        private final FileChannel channel;
        private long position;
        private final long end;

        RegionStream(Path file, long offset, long length) {
            try {
                this.channel = FileChannel.open(file, StandardOpenOption.READ);
            } catch (IOException e) {
                throw new Unreadable(e);
            }
            this.position = offset;
            this.end = offset + length;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] buffer, int off, int len) throws IOException {
            if (position >= end) {
                return -1;
            }
            int wanted = (int) Math.min(len, end - position);
            int n = channel.read(ByteBuffer.wrap(buffer, off, wanted), position);
            if (n < 0) {
                throw new IOException("file ended at " + position + ", before " + end);
            }
            position += n;
            return n;
        }

        @Override
        public void close() throws IOException {
            channel.close();
        }
    }
}
