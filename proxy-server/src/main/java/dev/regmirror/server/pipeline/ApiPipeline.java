package dev.regmirror.server.pipeline;

import io.netty.channel.ChannelPipeline;

/**
 * The handlers of one API (the registry's or the admin's), added behind the HTTP front that
 * {@link HttpBasics} gives an HTTP/1.1 connection or an HTTP/2 stream: what every listener of that
 * API runs, whatever its transport.
 */
public interface ApiPipeline {

    /** Adds the API's handlers (request decoding, resources, the last-resort handler) to the pipeline. */
    void addTo(ChannelPipeline pipeline);
}
