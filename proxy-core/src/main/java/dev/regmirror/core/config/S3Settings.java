package dev.regmirror.core.config;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * The S3-compatible bucket the cache lives in: the endpoint (none: AWS's for the region), the
 * bucket and the prefix of every key, path-style addressing, the access key pair (none: the AWS
 * default chain), a CA file for a private CA, the size of each part of a blob's multipart upload,
 * whether hits are answered with a redirect to a presigned URL of this life, and how often the
 * node exchanges its change log with the others on the bucket. The secret key is never part of
 * {@link #toString()}.
 */
public record S3Settings(Optional<URI> endpoint, String region, String bucket, String prefix, boolean pathStyle,
                         Optional<String> accessKey, Optional<String> secretKey, Optional<Path> caFile,
                         long partSize, boolean redirect, Duration redirectTtl, Duration changesInterval) {

    /** S3's smallest part but the last. */
    public static final long MIN_PART_SIZE = 5L << 20;
    /** S3's largest part. */
    public static final long MAX_PART_SIZE = 5L << 30;
    /** The shortest interval between exchanges of the change log. */
    public static final Duration MIN_CHANGES_INTERVAL = Duration.ofMillis(100);
    /** The longest: well inside the change log's one minute look-back, so that no change is missed. */
    public static final Duration MAX_CHANGES_INTERVAL = Duration.ofSeconds(30);

    public S3Settings {
        Objects.requireNonNull(endpoint, "endpoint");
        Objects.requireNonNull(region, "region");
        Objects.requireNonNull(bucket, "bucket");
        Objects.requireNonNull(prefix, "prefix");
        Objects.requireNonNull(accessKey, "accessKey");
        Objects.requireNonNull(secretKey, "secretKey");
        Objects.requireNonNull(caFile, "caFile");
        Objects.requireNonNull(redirectTtl, "redirectTtl");
        Objects.requireNonNull(changesInterval, "changesInterval");
        if (bucket.isEmpty()) {
            throw new IllegalArgumentException("bucket must not be empty");
        }
        if (accessKey.isPresent() != secretKey.isPresent()) {
            throw new IllegalArgumentException("an access key goes with a secret key");
        }
        if (partSize < MIN_PART_SIZE || partSize > MAX_PART_SIZE) {
            throw new IllegalArgumentException("partSize must be 5 MiB to 5 GiB");
        }
        if (changesInterval.compareTo(MIN_CHANGES_INTERVAL) < 0 || changesInterval.compareTo(MAX_CHANGES_INTERVAL) > 0) {
            throw new IllegalArgumentException("changesInterval must be 100ms to 30s");
        }
    }

    @Override
    public String toString() {
        return "S3Settings[endpoint=" + endpoint.map(URI::toString).orElse("(AWS)") + ", region=" + region
                + ", bucket=" + bucket + ", prefix=" + prefix + ", pathStyle=" + pathStyle
                + ", accessKey=" + accessKey.orElse("(default chain)") + ", secretKey="
                + (secretKey.isPresent() ? "(set)" : "(default chain)") + ", caFile=" + caFile
                + ", partSize=" + partSize + ", redirect=" + redirect + ", redirectTtl=" + redirectTtl
                + ", changesInterval=" + changesInterval + "]";
    }
}
