package dev.regmirror.core.storage.s3;

import dev.regmirror.core.client.ExtraTrust;
import dev.regmirror.core.config.S3Settings;
import dev.regmirror.core.config.SettingsException;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import javax.net.ssl.TrustManager;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.SdkHttpClient;
import software.amazon.awssdk.http.apache5.Apache5HttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3Configuration;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.MultipartUpload;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;
import software.amazon.awssdk.services.s3.presigner.S3Presigner;

/**
 * The bucket of {@link S3Settings} as the storage code needs it: small objects read and written
 * whole, blobs read by range, listed, deleted, uploaded in parts, and presigned for a redirect.
 * Keys given and returned are relative to the configured prefix. Every call blocks on the network:
 * run them on the storage threads, never on an event loop. Failures of the store come out as
 * {@link S3StoreException}; an absent object is an empty answer, not a failure.
 */
public final class S3Objects implements AutoCloseable {

    /** The most bytes {@link #read} takes into memory: manifests and metadata, never blobs. */
    public static final int MAX_SMALL_OBJECT = 64 << 20;

    /** What the store holds under a key: its size, when it was last written, and its entity tag. */
    public record ObjectInfo(String key, long size, Instant lastModified, String eTag) {

        public ObjectInfo {
            Objects.requireNonNull(key, "key");
            Objects.requireNonNull(lastModified, "lastModified");
        }
    }

    private final S3Settings settings;
    private final SdkHttpClient http;
    private final S3Client client;
    private final S3Presigner presigner;

    private S3Objects(S3Settings settings, SdkHttpClient http, S3Client client, S3Presigner presigner) {
        this.settings = settings;
        this.http = http;
        this.client = client;
        this.presigner = presigner;
    }

    /** Clients for the settings' store; nothing is sent until the first call (see {@link #checkBucket}). */
    public static S3Objects open(S3Settings settings) {
        Apache5HttpClient.Builder http = Apache5HttpClient.builder()
                .connectionTimeout(Duration.ofSeconds(10))
                .socketTimeout(Duration.ofSeconds(60))
                .maxConnections(64);
        settings.caFile().ifPresent(caFile -> {
            TrustManager[] trust = {ExtraTrust.of(caFile)};
            http.tlsTrustManagersProvider(() -> trust);
        });
        SdkHttpClient httpClient = http.build();
        AwsCredentialsProvider credentials = settings.accessKey().isPresent()
                ? StaticCredentialsProvider.create(AwsBasicCredentials.create(settings.accessKey().get(),
                        settings.secretKey().orElseThrow()))
                : DefaultCredentialsProvider.builder().build();
        Region region = Region.of(settings.region());
        var builder = S3Client.builder()
                .httpClient(httpClient)
                .region(region)
                .credentialsProvider(credentials)
                .forcePathStyle(settings.pathStyle())
                // Content is checked against its sha256 digest by regmirror itself; the newer
                // default checksums are refused by several S3-compatible stores.
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED);
        var presigner = S3Presigner.builder()
                .region(region)
                .credentialsProvider(credentials)
                .serviceConfiguration(S3Configuration.builder().pathStyleAccessEnabled(settings.pathStyle()).build());
        settings.endpoint().ifPresent(endpoint -> {
            builder.endpointOverride(endpoint);
            presigner.endpointOverride(endpoint);
        });
        return new S3Objects(settings, httpClient, builder.build(), presigner.build());
    }

    /** Where the store is, for messages: the endpoint and bucket, never a credential. */
    public String describe() {
        return settings.endpoint().map(URI::toString).orElse("AWS S3 (" + settings.region() + ")") + " bucket "
                + settings.bucket();
    }

    /**
     * Checks that the bucket exists and the credentials may use it.
     *
     * @throws SettingsException naming the setting to look at, with the store's answer
     */
    public void checkBucket() {
        try {
            client.headBucket(b -> b.bucket(settings.bucket()));
        } catch (S3Exception e) {
            String answer = answer(e);
            if (e.statusCode() == 404) {
                throw new SettingsException("regmirror.storage.s3.bucket: bucket \"" + settings.bucket()
                        + "\" does not exist at " + describe() + " (" + answer + ")", e);
            }
            if (e.statusCode() == 403 || e.statusCode() == 401) {
                throw new SettingsException("regmirror.storage.s3.access-key: the store refused these credentials for "
                        + describe() + " (" + answer + ")", e);
            }
            if (e.statusCode() == 301 || e.statusCode() == 400) {
                throw new SettingsException("regmirror.storage.s3.region: " + describe() + " answered " + answer
                        + " (a bucket in another region, or virtual-host addressing a store without it: see path-style)",
                        e);
            }
            throw new SettingsException("regmirror.storage.s3.endpoint: " + describe() + " answered " + answer, e);
        } catch (SdkClientException e) {
            throw new SettingsException("regmirror.storage.s3.endpoint: cannot reach " + describe() + ": "
                    + e.getMessage(), e);
        }
    }

    /** The object's metadata, empty if there is none under the key. */
    public Optional<ObjectInfo> head(String key) {
        try {
            HeadObjectResponse head = client.headObject(b -> b.bucket(settings.bucket()).key(full(key)));
            return Optional.of(new ObjectInfo(key, head.contentLength(), head.lastModified(), head.eTag()));
        } catch (S3Exception e) {
            if (e.statusCode() == 404) {
                return Optional.empty();
            }
            throw failure("HEAD " + key, e);
        } catch (SdkException e) {
            throw failure("HEAD " + key, e);
        }
    }

    /** A small object's bytes, empty if there is none under the key. */
    public Optional<byte[]> read(String key) {
        try (ResponseInputStream<GetObjectResponse> in = client.getObject(b -> b.bucket(settings.bucket())
                .key(full(key)))) {
            Long length = in.response().contentLength();
            if (length != null && length > MAX_SMALL_OBJECT) {
                in.abort();
                throw new S3StoreException("GET " + key + ": " + length + " bytes is more than a small object may have",
                        null);
            }
            return Optional.of(in.readAllBytes());
        } catch (S3Exception e) {
            if (e.statusCode() == 404) {
                return Optional.empty();
            }
            throw failure("GET " + key, e);
        } catch (SdkException e) {
            throw failure("GET " + key, e);
        } catch (IOException e) {
            throw failure("GET " + key, e);
        }
    }

    /** Writes a small object whole, replacing what was there (S3 makes it visible at once, whole). */
    public void write(String key, byte[] body, String contentType) {
        try {
            client.putObject(b -> b.bucket(settings.bucket()).key(full(key)).contentType(contentType),
                    RequestBody.fromBytes(body));
        } catch (SdkException e) {
            throw failure("PUT " + key, e);
        }
    }

    /** Writes the first {@code length} bytes of a file as one object, replacing what was there. */
    public void write(String key, Path file, long length, String contentType) {
        try {
            client.putObject(b -> b.bucket(settings.bucket()).key(full(key)).contentType(contentType)
                    .contentLength(length), RequestBody.fromContentProvider(() -> new FileRegionStream(file, 0, length),
                            length, contentType));
        } catch (SdkException | FileRegionStream.Unreadable e) {
            throw failure("PUT " + key, e);
        }
    }

    /**
     * A stream of bytes {@code first} to {@code last} (inclusive) of the object, empty if there is
     * none. The caller closes it; {@link ResponseInputStream#abort()} drops the connection early.
     */
    public Optional<ResponseInputStream<GetObjectResponse>> open(String key, long first, long last) {
        if (first < 0 || last < first) {
            throw new IllegalArgumentException("range " + first + "-" + last);
        }
        try {
            return Optional.of(client.getObject(b -> b.bucket(settings.bucket()).key(full(key))
                    .range("bytes=" + first + "-" + last)));
        } catch (S3Exception e) {
            if (e.statusCode() == 404) {
                return Optional.empty();
            }
            throw failure("GET " + key + " bytes " + first + "-" + last, e);
        } catch (SdkException e) {
            throw failure("GET " + key, e);
        }
    }

    /**
     * A stream of the whole object, its entity tag and length in the response, empty if there is
     * none. The caller closes it; {@link ResponseInputStream#abort()} drops the connection early.
     */
    public Optional<ResponseInputStream<GetObjectResponse>> openWhole(String key) {
        try {
            return Optional.of(client.getObject(b -> b.bucket(settings.bucket()).key(full(key))));
        } catch (S3Exception e) {
            if (e.statusCode() == 404) {
                return Optional.empty();
            }
            throw failure("GET " + key, e);
        } catch (SdkException e) {
            throw failure("GET " + key, e);
        }
    }

    /**
     * Copies the object to another key inside the store, only if it still has the entity tag
     * {@code eTag}; {@code false} when it does not (412) or is gone (404).
     */
    public boolean copyIfMatch(String from, String to, String eTag) {
        try {
            client.copyObject(b -> b.sourceBucket(settings.bucket()).sourceKey(full(from))
                    .destinationBucket(settings.bucket()).destinationKey(full(to)).copySourceIfMatch(eTag));
            return true;
        } catch (S3Exception e) {
            if (e.statusCode() == 412 || e.statusCode() == 404) {
                return false;
            }
            throw failure("COPY " + from + " to " + to, e);
        } catch (SdkException e) {
            throw failure("COPY " + from + " to " + to, e);
        }
    }

    /** The object's {@code s3://<bucket>/<prefix><key>} name, for reports and messages. */
    public String url(String key) {
        return "s3://" + settings.bucket() + "/" + full(key);
    }

    /**
     * Every object whose key starts with {@code keyPrefix}, in key order, read page by page; keys
     * ending in '/' are folder markers, not objects of ours, and are left out.
     */
    public List<ObjectInfo> list(String keyPrefix) {
        List<ObjectInfo> found = new ArrayList<>();
        try {
            for (S3Object object : client.listObjectsV2Paginator(b -> b.bucket(settings.bucket())
                    .prefix(full(keyPrefix))).contents()) {
                if (object.key().endsWith("/")) {
                    continue; // a "folder" marker (consoles make them; S3Proxy's file back end lists its directories)
                }
                found.add(new ObjectInfo(object.key().substring(settings.prefix().length()), object.size(),
                        object.lastModified(), object.eTag()));
            }
            return found;
        } catch (SdkException e) {
            throw failure("LIST " + keyPrefix, e);
        }
    }

    /** Removes the object; removing one that is not there is no failure. */
    public void delete(String key) {
        try {
            client.deleteObject(b -> b.bucket(settings.bucket()).key(full(key)));
        } catch (S3Exception e) {
            if (e.statusCode() != 404) {
                throw failure("DELETE " + key, e);
            }
        } catch (SdkException e) {
            throw failure("DELETE " + key, e);
        }
    }

    /** Starts a multipart upload to the key; nothing is visible under it until {@link S3Upload#complete}. */
    public S3Upload beginUpload(String key, String contentType) {
        try {
            String id = client.createMultipartUpload(b -> b.bucket(settings.bucket()).key(full(key))
                    .contentType(contentType)).uploadId();
            return new S3Upload(client, settings.bucket(), full(key), key, id);
        } catch (SdkException e) {
            throw failure("begin upload of " + key, e);
        }
    }

    /** Aborts one multipart upload of the key; one the store no longer knows is no failure. */
    public void abortUpload(String key, String uploadId) {
        try {
            client.abortMultipartUpload(b -> b.bucket(settings.bucket()).key(full(key)).uploadId(uploadId));
        } catch (S3Exception e) {
            if (e.statusCode() != 404) {
                throw failure("abort upload of " + key, e);
            }
        } catch (SdkException e) {
            throw failure("abort upload of " + key, e);
        }
    }

    /**
     * Aborts the multipart uploads under the prefix started before {@code cutoff}: those of a node
     * that crashed or lost the store mid-upload. Returns how many were aborted.
     */
    public int abortUploadsStartedBefore(Instant cutoff) {
        int aborted = 0;
        try {
            for (MultipartUpload upload : client.listMultipartUploadsPaginator(b -> b.bucket(settings.bucket())
                    .prefix(settings.prefix())).uploads()) {
                if (upload.initiated() != null && upload.initiated().isBefore(cutoff)) {
                    try {
                        client.abortMultipartUpload(b -> b.bucket(settings.bucket()).key(upload.key())
                                .uploadId(upload.uploadId()));
                        aborted++;
                    } catch (S3Exception e) {
                        if (e.statusCode() != 404) {
                            throw e;
                        }
                    }
                }
            }
            return aborted;
        } catch (SdkException e) {
            throw failure("abort leftover uploads", e);
        }
    }

    /** A URL that fetches the object without credentials for {@code ttl}. */
    public URI presign(String key, Duration ttl) {
        try {
            return presigner.presignGetObject(b -> b.signatureDuration(ttl)
                    .getObjectRequest(g -> g.bucket(settings.bucket()).key(full(key)))).url().toURI();
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException("presigned URL of " + key, e);
        }
    }

    private String full(String key) {
        return settings.prefix() + key;
    }

    private S3StoreException failure(String what, Exception e) {
        String why = e instanceof S3Exception s3 ? answer(s3) : e.getMessage();
        return new S3StoreException(what + " at " + describe() + ": " + why, e);
    }

    /** The store's answer: status, error code and message, as far as it gave them. */
    private static String answer(S3Exception e) {
        StringBuilder answer = new StringBuilder(String.valueOf(e.statusCode()));
        if (e.awsErrorDetails() != null) {
            if (e.awsErrorDetails().errorCode() != null) {
                answer.append(' ').append(e.awsErrorDetails().errorCode());
            }
            if (e.awsErrorDetails().errorMessage() != null) {
                answer.append(": ").append(e.awsErrorDetails().errorMessage());
            }
        }
        return answer.toString();
    }

    @Override
    public void close() {
        presigner.close();
        client.close();
        http.close();
    }
}
