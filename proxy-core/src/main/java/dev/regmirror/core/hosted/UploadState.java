package dev.regmirror.core.hosted;

import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.upstream.Route;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Instant;

/**
 * One upload in progress, in memory: its file, how many bytes it holds, their running SHA-256,
 * when it was last used, and whether a chunk is being written. Guarded by itself.
 */
final class UploadState {

    final UploadId id;
    final Route route;
    final Path data;
    MessageDigest sha256 = new Digest("sha256", "0".repeat(64)).newHasher();
    long size;
    Instant lastActivity;
    boolean writing;
    boolean gone;

    UploadState(UploadId id, Route route, Path data, Instant now) {
        this.id = id;
        this.route = route;
        this.data = data;
        this.lastActivity = now;
    }

    Upload upload() {
        return new Upload(id, route, size);
    }

    /** A copy of the running hash, to go back to if a chunk is taken back out. */
    MessageDigest hashSoFar() {
        try {
            return (MessageDigest) sha256.clone();
        } catch (CloneNotSupportedException e) {
            throw new IllegalStateException("SHA-256 cannot be resumed", e);
        }
    }
}
