package dev.regmirror.core.storage.s3;

import java.nio.file.Path;
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

    /** The store's id of this upload. */
    public String uploadId() {
        return uploadId;
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
                            () -> new FileRegionStream(file, offset, length), length, "application/octet-stream")).eTag();
            parts.add(CompletedPart.builder().partNumber(number).eTag(eTag).build());
            bytes += length;
        } catch (SdkException | FileRegionStream.Unreadable e) {
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
}
