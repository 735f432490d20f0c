package dev.regmirror.server.http;

import dev.regmirror.core.blob.OpenBlob;
import io.netty.channel.DefaultFileRegion;

/**
 * A zero-copy region of a cached blob that keeps the blob pinned against eviction until Netty is
 * done with it (sent, or dropped with the connection); the region closes the file itself.
 */
final class PinnedFileRegion extends DefaultFileRegion {

    private final OpenBlob blob;

    /** @param blob a blob in a local file ({@link OpenBlob#file()}) */
    PinnedFileRegion(OpenBlob blob, long position, long count) {
        super(blob.file().orElseThrow(), position, count);
        this.blob = blob;
    }

    @Override
    protected void deallocate() {
        try {
            super.deallocate();
        } finally {
            blob.releasePin();
        }
    }
}
