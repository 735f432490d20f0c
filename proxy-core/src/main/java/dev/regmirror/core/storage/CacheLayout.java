package dev.regmirror.core.storage;

import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.reference.Tag;
import dev.regmirror.core.upstream.Route;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * Names every path under the cache directory, the one owner of its layout (as distribution's
 * {@code registry/storage/paths.go} is of its):
 * <pre>
 * .lock                                           held while a process has the cache open
 * blobs/&lt;alg&gt;/&lt;first two hex&gt;/&lt;hex&gt;                committed content, manifests included
 * ingest/&lt;prefix&gt;-&lt;uuid&gt;                           partial writes, swept at start
 * ingest/relay-&lt;hex&gt;-&lt;uuid&gt;                        in a cluster, a blob relayed from its owner, never stored
 * bucket-uploads/&lt;uuid&gt;                          with S3 storage, the multipart uploads this node has open
 * quarantine/&lt;alg&gt;/&lt;hex&gt;-&lt;time&gt;                    blobs a verify found corrupt
 * manifests/&lt;alg&gt;/&lt;hex&gt;                            a cached manifest's media type
 * tags/&lt;registry&gt;/&lt;name&gt;/:&lt;tag&gt;                     a tag's last resolution
 * referrers/&lt;registry&gt;/&lt;name&gt;/:&lt;alg&gt;-&lt;hex&gt;/all      a subject's referrers list ({@code type-<sha256>} filtered)
 * repositories/&lt;registry&gt;/&lt;name&gt;/_cached          the repository has a cached manifest
 * pulls.json                                      pull counts per tag
 * hosted/repositories/&lt;name&gt;/_tags/&lt;tag&gt;          the digest a hosted tag points at
 * hosted/repositories/&lt;name&gt;/_manifests/&lt;alg&gt;/&lt;hex&gt;  the manifest was pushed to the hosted repository
 * hosted/repositories/&lt;name&gt;/_blobs/&lt;alg&gt;/&lt;hex&gt;  the blob was uploaded or mounted into it (last then)
 * hosted/repositories/&lt;name&gt;/_referrers/&lt;alg&gt;/&lt;hex&gt;/&lt;alg&gt;/&lt;hex&gt;
 *                                                 a manifest of the repository names the first as its subject
 * hosted/uploads/&lt;id&gt;/data                        a hosted upload in progress (always on this machine)
 * changes/&lt;millis&gt;-&lt;node&gt;-&lt;sequence&gt;              what nodes sharing a bucket tell each other ({@code StoreChanges})
 * </pre>
 * Repository components cannot contain {@code :} nor start with {@code _}, so leaves never collide
 * with nested names; every path built from a digest or a route is checked not to leave its area.
 */
public final class CacheLayout {

    private static final String REPOSITORY_MARKER = "_cached";
    private static final DateTimeFormatter QUARANTINE_TIME =
            DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss.SSS'Z'").withZone(ZoneOffset.UTC);

    private final Path root;

    /** The layout of the cache in that directory (made absolute and normalized). */
    public CacheLayout(Path directory) {
        this.root = directory.toAbsolutePath().normalize();
    }

    /** The cache directory. */
    public Path root() {
        return root;
    }

    /** The file locked while a process has the cache open. */
    public Path lockFile() {
        return root.resolve(".lock");
    }

    /** Where committed blobs live. */
    public Path blobs() {
        return root.resolve("blobs");
    }

    /** {@code blobs/<alg>/<first two hex>/<hex>}. */
    public Path blob(Digest digest) {
        Path blobs = blobs();
        return inside(blobs, blobs.resolve(digest.algorithm()).resolve(digest.hex().substring(0, 2))
                .resolve(digest.hex()), "digest " + digest);
    }

    /**
     * The digest a file under {@link #blobs()} holds, read back from its path relative to that
     * directory; empty for anything not named as {@link #blob} names files.
     */
    public static Optional<Digest> blobDigest(Path relative) {
        if (relative.getNameCount() != 3) {
            return Optional.empty();
        }
        try {
            return Optional.of(new Digest(relative.getName(0).toString(), relative.getName(2).toString()));
        } catch (RuntimeException notABlob) {
            return Optional.empty();
        }
    }

    /** Where partial writes and scratch files live; whatever is there at start is swept. */
    public Path ingest() {
        return root.resolve("ingest");
    }

    /** A new file name in {@link #ingest()}: {@code <prefix>-<uuid>}. */
    public Path scratchFile(String prefix) {
        return scratchFile(prefix, "");
    }

    /** A new file name in {@link #ingest()}: {@code <prefix>-<uuid><suffix>}. */
    public Path scratchFile(String prefix, String suffix) {
        return ingest().resolve(prefix + "-" + UUID.randomUUID() + suffix);
    }

    /**
     * A new spool in {@link #ingest()} for a blob relayed from its owner in a cluster, which this
     * node never stores: {@code relay-<hex>-<uuid>}, removed a while after it is complete.
     */
    public Path relaySpool(String hex) {
        return scratchFile("relay-" + hex);
    }

    /**
     * With S3 storage, where the node records the multipart uploads it has in progress, so that a
     * start after a crash aborts the ones it left.
     */
    public Path bucketUploads() {
        return root.resolve("bucket-uploads");
    }

    /** Where corrupt blobs are moved aside. */
    public Path quarantine() {
        return root.resolve("quarantine");
    }

    /** {@code quarantine/<alg>/<hex>-<time>}: where a blob found corrupt at that time is moved. */
    public Path quarantined(Digest digest, Instant at) {
        Path quarantine = quarantine();
        return inside(quarantine, quarantine.resolve(digest.algorithm())
                .resolve(digest.hex() + "-" + QUARANTINE_TIME.format(at)), "digest " + digest);
    }

    /** Where cached manifests' media types live. */
    public Path manifestTypes() {
        return root.resolve("manifests");
    }

    /** {@code manifests/<alg>/<hex>}. */
    public Path manifestType(Digest digest) {
        Path types = manifestTypes();
        return inside(types, types.resolve(digest.algorithm()).resolve(digest.hex()), "digest " + digest);
    }

    /** Where tag resolutions live. */
    public Path tags() {
        return root.resolve("tags");
    }

    /** {@code tags/<registry>/<name>}: the directory of a repository's tag files, which {@link #tagOf} reads. */
    public Path tagDirectory(Route route) {
        return repositoryDirectory(tags(), route);
    }

    /** {@code tags/<registry>/<name>/:<tag>}. */
    public Path tag(Route route, Tag tag) {
        return underRoute(tags(), route, ":" + tag.value());
    }

    /** The glob that matches tag files in a {@link #tagDirectory}. */
    public static String tagGlob() {
        return ":*";
    }

    /** The tag a file in a {@link #tagDirectory} names (it is not checked to be a valid tag). */
    public static String tagOf(Path tagFile) {
        return tagFile.getFileName().toString().substring(1);
    }

    /** Where referrers lists live. */
    public Path referrers() {
        return root.resolve("referrers");
    }

    /**
     * {@code referrers/<registry>/<name>/:<alg>-<hex>/all} for the whole list,
     * {@code .../type-<sha256 of the artifactType>} for a filtered one.
     */
    public Path referrersList(Route route, Digest subject, Optional<String> artifactType) {
        String leaf = ":" + subject.algorithm() + "-" + subject.hex() + "/"
                + artifactType.map(type -> "type-" + Digest.sha256Of(type.getBytes(StandardCharsets.UTF_8)).hex())
                .orElse("all");
        return underRoute(referrers(), route, leaf);
    }

    /** Where the markers of cached repositories live. */
    public Path repositories() {
        return root.resolve("repositories");
    }

    /** {@code repositories/<registry>/<name>/_cached}. */
    public Path repositoryMarker(Route route) {
        return repositoryDirectory(repositories(), route).resolve(REPOSITORY_MARKER);
    }

    /**
     * The repository, in the client's naming ({@code docker.io/library/nginx}), whose marker that
     * file is; empty for any other file under {@link #repositories()}.
     */
    public Optional<String> repositoryOf(Path file) {
        if (!file.getFileName().toString().equals(REPOSITORY_MARKER)) {
            return Optional.empty();
        }
        return Optional.of(repositories().relativize(file.getParent()).toString().replace('\\', '/'));
    }

    /** Where the nodes sharing one store write their changes for each other ({@code StoreChanges}). */
    public Path changes() {
        return root.resolve("changes");
    }

    /** The pull counts' file. */
    public Path pulls() {
        return root.resolve("pulls.json");
    }

    /** The hosted area: its repositories' links, and uploads in progress. */
    public Path hosted() {
        return root.resolve("hosted");
    }

    /** Where hosted repositories' links live. */
    public Path hostedRepositories() {
        return hosted().resolve("repositories");
    }

    /** Where hosted uploads in progress live. */
    public Path hostedUploads() {
        return hosted().resolve("uploads");
    }

    /** What a key under {@link #hostedRepositories()} records, by the segment that follows the repository's name. */
    public enum HostedKind {
        /** {@code _tags/<tag>}. */
        TAGS("_tags"),
        /** {@code _manifests/<alg>/<hex>}. */
        MANIFESTS("_manifests"),
        /** {@code _blobs/<alg>/<hex>}. */
        BLOBS("_blobs"),
        /** {@code _referrers/<alg>/<hex>/<alg>/<hex>}. */
        REFERRERS("_referrers");

        private final String segment;

        HostedKind(String segment) {
            this.segment = segment;
        }
    }

    /**
     * A key under {@link #hostedRepositories()} read back: the repository's name (not checked to be
     * valid), what it records, and the segments after the kind's ({@code [<tag>]},
     * {@code [<alg>, <hex>]}, or {@code [<alg>, <hex>, <alg>, <hex>]} of a referrer).
     */
    public record HostedEntry(String repository, HostedKind kind, List<String> rest) {
        public HostedEntry {
            rest = List.copyOf(rest);
        }
    }

    /** {@code hosted/repositories/<name>}: the hosted repository's links, which {@link #hostedEntry} reads back. */
    public Path hostedRepository(Route route) {
        if (!route.hosted()) {
            throw new IllegalArgumentException(route + " is not a hosted repository");
        }
        Path area = hostedRepositories();
        Path path = area.resolve(route.name().value()).normalize();
        if (!path.startsWith(area) || path.equals(area)) {
            throw new IllegalArgumentException("repository " + route + " escapes the store");
        }
        return path;
    }

    /** {@code hosted/repositories/<name>/<kind>}: where the repository's links of that kind live. */
    public Path hostedLinks(Route route, HostedKind kind) {
        return hostedRepository(route).resolve(kind.segment);
    }

    /** {@code hosted/repositories/<name>/_tags/<tag>}. */
    public Path hostedTag(Route route, Tag tag) {
        return inside(hostedLinks(route, HostedKind.TAGS), hostedLinks(route, HostedKind.TAGS).resolve(tag.value()),
                "tag " + tag);
    }

    /** {@code hosted/repositories/<name>/_manifests/<alg>/<hex>} or {@code _blobs/<alg>/<hex>}. */
    public Path hostedLink(Route route, HostedKind kind, Digest digest) {
        if (kind != HostedKind.MANIFESTS && kind != HostedKind.BLOBS) {
            throw new IllegalArgumentException(kind + " links are not named by one digest");
        }
        Path links = hostedLinks(route, kind);
        return inside(links, links.resolve(digest.algorithm()).resolve(digest.hex()), "digest " + digest);
    }

    /** {@code hosted/repositories/<name>/_referrers/<alg>/<hex>}: the referrers of one subject. */
    public Path hostedReferrers(Route route, Digest subject) {
        Path links = hostedLinks(route, HostedKind.REFERRERS);
        return inside(links, links.resolve(subject.algorithm()).resolve(subject.hex()), "digest " + subject);
    }

    /** {@code hosted/repositories/<name>/_referrers/<alg>/<hex>/<alg>/<hex>}. */
    public Path hostedReferrer(Route route, Digest subject, Digest referrer) {
        Path links = hostedReferrers(route, subject);
        return inside(links, links.resolve(referrer.algorithm()).resolve(referrer.hex()), "digest " + referrer);
    }

    /**
     * What a key of {@link #hostedRepositories()} records, read from its segments after that
     * directory's key; empty for anything not named as the {@code hosted*} methods name keys.
     * Name components never start with {@code _}, so the first segment that does is the kind.
     */
    public static Optional<HostedEntry> hostedEntry(String relativeKey) {
        String[] segments = relativeKey.split("/", -1);
        for (int i = 1; i < segments.length; i++) {
            for (HostedKind kind : HostedKind.values()) {
                if (kind.segment.equals(segments[i])) {
                    return Optional.of(new HostedEntry(String.join("/", Arrays.copyOfRange(segments, 0, i)),
                            kind, Arrays.asList(Arrays.copyOfRange(segments, i + 1, segments.length))));
                }
            }
            if (segments[i].startsWith("_")) {
                return Optional.empty();
            }
        }
        return Optional.empty();
    }

    @Override
    public String toString() {
        return root.toString();
    }

    /** {@code <area>/<registry>/<name>}, checked not to leave the area. */
    private static Path repositoryDirectory(Path area, Route route) {
        return inside(area, area.resolve(route.registry()).resolve(route.name().value()), "repository " + route);
    }

    /** {@code <area>/<registry>/<name>/<leaf>}, checked not to leave the area nor to be it. */
    private static Path underRoute(Path area, Route route, String leaf) {
        Path path = area.resolve(route.registry()).resolve(route.name().value()).resolve(leaf).normalize();
        if (!path.startsWith(area) || path.equals(area)) {
            throw new IllegalArgumentException(route + " " + leaf + " escapes the store");
        }
        return path;
    }

    private static Path inside(Path area, Path path, String what) {
        Path normalized = path.normalize();
        if (!normalized.startsWith(area)) {
            throw new IllegalArgumentException(what + " escapes the store");
        }
        return normalized;
    }

    /**
     * The storage key of a path under the cache directory: its relative name with '/' separators,
     * as an object store keeps the same layout under its prefix.
     *
     * @throws IllegalArgumentException for a path outside the cache directory
     */
    public String key(Path path) {
        Path normalized = path.toAbsolutePath().normalize();
        if (!normalized.startsWith(root) || normalized.equals(root)) {
            throw new IllegalArgumentException(path + " is not under the cache directory " + root);
        }
        return root.relativize(normalized).toString().replace('\\', '/');
    }
}
