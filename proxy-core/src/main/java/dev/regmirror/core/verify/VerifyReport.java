package dev.regmirror.core.verify;

import dev.regmirror.core.blob.BlobStore;
import dev.regmirror.core.reference.Digest;
import java.util.List;
import java.util.Objects;

/**
 * What a verify found: the corrupt blobs it moved aside, the references of cached manifests to
 * content not in the cache (only the first {@link #MAX_LISTED} are listed; {@code missingTotal}
 * counts them all, {@code hostedMissingTotal} those of hosted manifests), the blobs that went (evicted, purged) while it ran, and the unfinished
 * downloads left in {@code ingest/} from before the server started.
 */
public record VerifyReport(List<Corrupt> corrupt, List<Missing> missing, int missingTotal, int hostedMissingTotal,
                           int blobsGone, List<BlobStore.Leftover> ingestLeftovers) {

    /** Missing references listed at most; the rest are only counted. */
    public static final int MAX_LISTED = 1000;

    public VerifyReport {
        corrupt = List.copyOf(corrupt);
        missing = List.copyOf(missing);
        ingestLeftovers = List.copyOf(ingestLeftovers);
    }

    /**
     * A blob whose bytes do not hash to its name, or that the disk failed to read, moved to
     * {@code quarantinedAs} (a path on disk, an {@code s3://} URL in a bucket); {@code problem}
     * says which. A hosted one (linked by a hosted
     * repository) cannot be fetched again from any upstream: it must be pushed again.
     */
    public record Corrupt(Digest digest, long size, boolean hosted, String problem, String quarantinedAs) {

        /** The {@code problem} of a blob whose bytes were read whole and do not hash to its name. */
        public static final String MISMATCH = "its bytes do not hash to its digest";

        public Corrupt {
            Objects.requireNonNull(digest, "digest");
            Objects.requireNonNull(problem, "problem");
            Objects.requireNonNull(quarantinedAs, "quarantinedAs");
        }
    }

    /** What a missing reference points to. */
    public enum Kind {
        /** A config or layer of an image manifest. */
        blob,
        /** A manifest an index lists. */
        child,
        /** The manifest's own bytes (its media type is kept, its bytes are not). */
        manifest
    }

    /**
     * A cached manifest's reference to content the cache does not hold. For a mirrored manifest
     * this is not damage (a cap evicts layers, a pull of one platform leaves the others uncached; a
     * pull fetches them); for a hosted one it is content lost.
     */
    public record Missing(Digest manifest, Kind kind, Digest digest, boolean hosted) {
        public Missing {
            Objects.requireNonNull(manifest, "manifest");
            Objects.requireNonNull(kind, "kind");
            Objects.requireNonNull(digest, "digest");
        }
    }

    /** Whether anything was found that a pull cannot repair by itself: corrupt blobs, or hosted content missing. */
    public boolean damaged() {
        return !corrupt.isEmpty() || hostedMissingTotal > 0;
    }
}
