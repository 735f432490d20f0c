package dev.regmirror.core.client;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.Flow;

/**
 * A blob body on its way from the upstream: its declared length and a publisher that can be
 * subscribed to once. The subscriber requests more only when it has handled what it got, which is
 * the back-pressure that keeps memory flat. The publisher signals an
 * {@link dev.regmirror.core.error.UpstreamUnavailableException} when the upstream stalls longer
 * than the read timeout or breaks off.
 */
public interface BlobBody {

    /** The Content-Length the upstream declared, or -1. */
    long contentLength();

    /** The body; subscribe once. */
    Flow.Publisher<List<ByteBuffer>> publisher();
}
