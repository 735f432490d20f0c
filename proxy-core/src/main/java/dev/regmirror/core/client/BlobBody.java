package dev.regmirror.core.client;

import io.netty.buffer.ByteBuf;
import java.util.concurrent.Flow;

/**
 * A blob body on its way from the upstream: its declared length and a publisher that can be
 * subscribed to once. The subscriber requests more only when it has handled what it got, which is
 * the back-pressure that keeps memory flat. The publisher signals an
 * {@link dev.regmirror.core.error.UpstreamUnavailableException} when the upstream stalls longer
 * than the read timeout or breaks off.
 *
 * <p>The buffers are the connection's own (pooled, usually direct): each one delivered belongs to
 * the subscriber, which must release it exactly once when done with it, also one that arrives after
 * it cancelled. A body nobody will read is cancelled with a {@link CancellingSubscriber}.
 */
public interface BlobBody {

    /** The Content-Length the upstream declared, or -1. */
    long contentLength();

    /** The body; subscribe once. */
    Flow.Publisher<ByteBuf> publisher();
}
