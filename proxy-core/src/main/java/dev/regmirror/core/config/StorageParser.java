package dev.regmirror.core.config;

import com.typesafe.config.Config;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;

/** Reads {@code regmirror.storage} into {@link StorageSettings}, naming the setting of anything invalid. */
final class StorageParser {

    /** SigV4 presigned URLs live at most a week. */
    private static final Duration MAX_REDIRECT_TTL = Duration.ofDays(7);

    private StorageParser() {
    }

    static StorageSettings parse(Config c) {
        String type = c.getString("type").toLowerCase(Locale.ROOT);
        switch (type) {
            case "filesystem":
                return StorageSettings.filesystem();
            case "s3":
                return new StorageSettings(StorageSettings.Type.S3, Optional.of(s3(c.getConfig("s3"))));
            default:
                throw new SettingsException("regmirror.storage.type: \"filesystem\" or \"s3\", was \"" + type + "\"");
        }
    }

    /** The {@code regmirror.storage.s3} block, checked. */
    static S3Settings s3(Config c) {
        String bucket = c.getString("bucket");
        if (bucket.isEmpty()) {
            throw new SettingsException("regmirror.storage.s3.bucket: required when regmirror.storage.type = s3");
        }
        String region = c.getString("region");
        if (region.isEmpty()) {
            throw new SettingsException("regmirror.storage.s3.region: required (any name, such as us-east-1, for "
                    + "stores that ignore it)");
        }
        Optional<String> accessKey = optional(c.getString("access-key"));
        Optional<String> secretKey = optional(c.getString("secret-key"));
        if (accessKey.isPresent() != secretKey.isPresent()) {
            throw new SettingsException("regmirror.storage.s3." + (accessKey.isPresent() ? "secret-key" : "access-key")
                    + ": set both access-key and secret-key, or neither (the AWS default chain: environment, "
                    + "profile, instance role)");
        }
        Optional<Path> caFile = optional(c.getString("ca-file")).map(Path::of);
        if (caFile.isPresent() && !Files.isReadable(caFile.get())) {
            throw new SettingsException("regmirror.storage.s3.ca-file: " + caFile.get() + " cannot be read");
        }
        long partSize = c.getBytes("part-size");
        if (partSize < S3Settings.MIN_PART_SIZE || partSize > S3Settings.MAX_PART_SIZE) {
            throw new SettingsException("regmirror.storage.s3.part-size: 5M to 5G (S3's limits), was " + partSize);
        }
        Duration ttl = c.getDuration("redirect-ttl");
        if (ttl.compareTo(Duration.ofSeconds(1)) < 0 || ttl.compareTo(MAX_REDIRECT_TTL) > 0) {
            throw new SettingsException("regmirror.storage.s3.redirect-ttl: 1s to 7d, was " + ttl);
        }
        Duration changesInterval = c.getDuration("changes-interval");
        if (changesInterval.compareTo(S3Settings.MIN_CHANGES_INTERVAL) < 0
                || changesInterval.compareTo(S3Settings.MAX_CHANGES_INTERVAL) > 0) {
            throw new SettingsException("regmirror.storage.s3.changes-interval: 100ms to 30s, was " + changesInterval);
        }
        return new S3Settings(endpoint(c.getString("endpoint")), region, bucket, prefix(c.getString("prefix")),
                c.getBoolean("path-style"), accessKey, secretKey, caFile, partSize, c.getBoolean("redirect"), ttl,
                changesInterval);
    }

    private static Optional<URI> endpoint(String value) {
        if (value.isEmpty()) {
            return Optional.empty();
        }
        try {
            URI uri = new URI(value);
            String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
            if (!scheme.equals("http") && !scheme.equals("https") || uri.getHost() == null
                    || uri.getRawQuery() != null || uri.getRawFragment() != null || uri.getRawUserInfo() != null
                    || uri.getRawPath() != null && !uri.getRawPath().isEmpty() && !uri.getRawPath().equals("/")) {
                throw new SettingsException("regmirror.storage.s3.endpoint: an http(s) URL of the store without a "
                        + "path, user, query or fragment (https://minio.lan:9000), was \"" + value + "\"");
            }
            return Optional.of(uri);
        } catch (URISyntaxException e) {
            throw new SettingsException("regmirror.storage.s3.endpoint: not a URL: \"" + value + "\"", e);
        }
    }

    /** The key prefix as stored: empty, or path segments ending in '/'. */
    private static String prefix(String value) {
        String trimmed = value.startsWith("/") ? value.substring(1) : value;
        if (trimmed.isEmpty()) {
            return "";
        }
        String withSlash = trimmed.endsWith("/") ? trimmed : trimmed + "/";
        for (String segment : withSlash.substring(0, withSlash.length() - 1).split("/", -1)) {
            if (segment.isEmpty() || segment.equals(".") || segment.equals("..")
                    || !segment.chars().allMatch(ch -> ch > 0x20 && ch < 0x7f && ch != '\\')) {
                throw new SettingsException("regmirror.storage.s3.prefix: segments of printable ASCII separated by "
                        + "single '/' (regmirror/ or mirrors/lan/), was \"" + value + "\"");
            }
        }
        return withSlash;
    }

    private static Optional<String> optional(String value) {
        return value.isEmpty() ? Optional.empty() : Optional.of(value);
    }
}
