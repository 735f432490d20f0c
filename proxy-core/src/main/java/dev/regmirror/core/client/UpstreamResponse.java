package dev.regmirror.core.client;

import java.net.URI;
import java.net.http.HttpHeaders;
import java.util.OptionalLong;

/**
 * The final answer to a {@link Fetch}, after redirects and authentication: status, headers, the URL
 * that answered, and the body ({@code B}: Netty's buffers, as {@link NettyWire} reads them), watched
 * for stalls; whoever receives it must consume or discard the body.
 */
record UpstreamResponse<B>(int status, HttpHeaders headers, URI uri, B body) {

    /** The Content-Length, or -1. */
    long contentLength() {
        try {
            OptionalLong length = headers.firstValueAsLong("Content-Length");
            return length.isPresent() && length.getAsLong() >= 0 ? length.getAsLong() : -1;
        } catch (NumberFormatException malformed) {
            return -1;
        }
    }
}
