package dev.regmirror.core.testing;

import dev.regmirror.core.reference.Digest;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.http.apache5.Apache5HttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.MultipartUpload;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * A bucket of an {@link S3ProxyProcess} seen through the S3 API, as an operator's {@code aws s3api}
 * sees it: the objects under a prefix, whether one exists and its size, and the multipart uploads
 * in progress. Independent of regmirror's own S3 code, so a test does not check that code with
 * itself.
 */
public final class S3Bucket implements AutoCloseable {

    private final S3Client client;
    private final String bucket;

    public S3Bucket(S3ProxyProcess s3, String bucket) {
        this.bucket = bucket;
        this.client = S3Client.builder()
                .httpClient(Apache5HttpClient.builder().build())
                .endpointOverride(s3.endpoint())
                .region(Region.US_EAST_1)
                .forcePathStyle(true)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(
                        S3ProxyProcess.ACCESS_KEY, S3ProxyProcess.SECRET_KEY)))
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                .build();
    }

    /** The key of a blob's bytes under {@code prefix}, as regmirror names it. */
    public static String blobKey(String prefix, Digest digest) {
        return prefix + "blobs/" + digest.algorithm() + "/" + digest.hex().substring(0, 2) + "/" + digest.hex();
    }

    /** Every object key under {@code prefix}, in key order (folder markers left out). */
    public List<String> keys(String prefix) {
        List<String> keys = new ArrayList<>();
        for (S3Object object : client.listObjectsV2Paginator(b -> b.bucket(bucket).prefix(prefix)).contents()) {
            if (!object.key().endsWith("/")) {
                keys.add(object.key());
            }
        }
        return keys;
    }

    /** The bytes of the objects under {@code prefix}, added up. */
    public long bytes(String prefix) {
        long total = 0;
        for (S3Object object : client.listObjectsV2Paginator(b -> b.bucket(bucket).prefix(prefix)).contents()) {
            total += object.key().endsWith("/") ? 0 : object.size();
        }
        return total;
    }

    /** The object's size, empty if there is no object under the key (a HEAD). */
    public OptionalLong size(String key) {
        try {
            return OptionalLong.of(client.headObject(b -> b.bucket(bucket).key(key)).contentLength());
        } catch (NoSuchKeyException e) {
            return OptionalLong.empty();
        } catch (S3Exception e) {
            if (e.statusCode() == 404) {
                return OptionalLong.empty();
            }
            throw e;
        }
    }

    /** The keys of the multipart uploads in progress (started, neither completed nor aborted). */
    public List<String> uploadsInProgress() {
        List<String> keys = new ArrayList<>();
        for (MultipartUpload upload : client.listMultipartUploadsPaginator(b -> b.bucket(bucket)).uploads()) {
            keys.add(upload.key());
        }
        return keys;
    }

    @Override
    public void close() {
        client.close();
    }
}
