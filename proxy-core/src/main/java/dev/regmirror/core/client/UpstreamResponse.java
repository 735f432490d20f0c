package dev.regmirror.core.client;

import java.net.URI;
import java.net.http.HttpHeaders;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.Flow;

/**
 * The final answer to a {@link Fetch}, after redirects and authentication: status, headers, the URL
 * that answered, and the body, watched for stalls; whoever receives it must consume or discard the body.
 */
record UpstreamResponse(int status, HttpHeaders headers, URI uri, Flow.Publisher<List<ByteBuffer>> body) {

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
