package dev.regmirror.core.mirror;

import dev.regmirror.core.blob.OpenBlob;
import dev.regmirror.core.client.BlobBody;
import dev.regmirror.core.reference.Digest;

/** Where a blob's bytes come from for one response: the cache, or a fill in progress. */
public sealed interface BlobSource {

    /** The blob's size, or -1 if a filling blob's upstream did not declare it. */
    long size();

    /** A committed blob, open for reading; the receiver closes it. */
    record Cached(OpenBlob blob) implements BlobSource {
        @Override
        public long size() {
            return blob.size();
        }
    }

    /** A blob still being downloaded, to be followed as it grows. */
    record Filling(BlobFill fill, long size) implements BlobSource {
    }

    /**
     * An upstream body for this response alone, streamed straight through because the cache
     * cannot store it; the relay verifies the digest and holds back the last chunk until it has.
     */
    record Direct(Digest digest, BlobBody body) implements BlobSource {
        @Override
        public long size() {
            return body.contentLength();
        }
    }
}
