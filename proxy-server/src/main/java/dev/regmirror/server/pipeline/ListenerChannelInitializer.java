package dev.regmirror.server.pipeline;

import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.ssl.SslContext;
import java.util.function.Supplier;

/**
 * Sets up a new connection of one listener: plain HTTP/1.1, or TLS whose handshake then picks
 * HTTP/2 or HTTP/1.1 by ALPN; each request (an HTTP/1.1 exchange or an HTTP/2 stream) then runs
 * through the same front ({@link HttpBasics}) and the listener's API.
 */
public final class ListenerChannelInitializer extends ChannelInitializer<SocketChannel> {

    /** Streams one HTTP/2 connection may run at once. */
    static final int MAX_CONCURRENT_STREAMS = 256;

    private final HttpBasics basics;
    private final ApiPipeline api;
    private final Supplier<SslContext> tls;

    /**
     * @param basics the listener's front
     * @param tls    the TLS context for each new connection, or null for plain HTTP
     */
    public ListenerChannelInitializer(HttpBasics basics, ApiPipeline api, Supplier<SslContext> tls) {
        this.basics = basics;
        this.api = api;
        this.tls = tls;
    }

    @Override
    protected void initChannel(SocketChannel channel) {
        ChannelPipeline pipeline = channel.pipeline();
        basics.addConnectionTo(pipeline);
        if (tls == null) {
            http1(pipeline);
            return;
        }
        pipeline.addLast("tls", tls.get().newHandler(channel.alloc()));
        pipeline.addLast("alpn", new Http2OrHttpHandler(this::http2, this::http1));
    }

    private void http1(ChannelPipeline pipeline) {
        basics.addTo(pipeline);
        api.addTo(pipeline);
    }

    private void http2(ChannelPipeline pipeline) {
        pipeline.addLast("h2", Http2FrameCodecBuilder.forServer()
                .initialSettings(Http2Settings.defaultSettings().maxConcurrentStreams(MAX_CONCURRENT_STREAMS)
                        .maxHeaderListSize(basics.maxHeaderSize()))
                .build());
        pipeline.addLast("h2-idle", HttpBasics.idleCloser(basics.idleTimeout()));
        pipeline.addLast("h2-streams", new Http2MultiplexHandler(new ChannelInitializer<Http2StreamChannel>() {
            @Override
            protected void initChannel(Http2StreamChannel stream) {
                basics.addStreamTo(stream.pipeline());
                api.addTo(stream.pipeline());
            }
        }));
        HttpBasics.addTail(pipeline); // the connection's own errors (a client's reset) end here
    }
}
