package dev.regmirror.server.pipeline;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.ssl.SslContext;
import java.time.Duration;
import java.util.function.Supplier;

/**
 * Sets up a new connection of one listener: plain HTTP/1.1, or TLS whose handshake then picks
 * HTTP/2 or HTTP/1.1 by ALPN; each request (an HTTP/1.1 exchange or an HTTP/2 stream) then runs
 * through the same front ({@link HttpBasics}) and the listener's API.
 */
public final class ListenerChannelInitializer extends ChannelInitializer<SocketChannel> {

    /** Streams one HTTP/2 connection may run at once. */
    static final int MAX_CONCURRENT_STREAMS = 256;
    /** The largest header block an HTTP/2 client may send, as for HTTP/1.1 heads. */
    static final int MAX_HEADER_LIST_SIZE = 16 * 1024;

    private final Duration idleTimeout;
    private final ApiPipeline api;
    private final Supplier<SslContext> tls;
    private final ChannelHandler allowedClients;

    /**
     * @param tls            the TLS context for each new connection, or null for plain HTTP
     * @param allowedClients the listener's network rule, or null when it serves every address
     */
    public ListenerChannelInitializer(Duration idleTimeout, ApiPipeline api, Supplier<SslContext> tls,
                                      ChannelHandler allowedClients) {
        this.idleTimeout = idleTimeout;
        this.api = api;
        this.tls = tls;
        this.allowedClients = allowedClients;
    }

    @Override
    protected void initChannel(SocketChannel channel) {
        ChannelPipeline pipeline = channel.pipeline();
        if (tls == null) {
            http1(pipeline);
            return;
        }
        pipeline.addLast("tls", tls.get().newHandler(channel.alloc()));
        pipeline.addLast("alpn", new Http2OrHttpHandler(this::http2, this::http1));
    }

    private void http1(ChannelPipeline pipeline) {
        HttpBasics.addTo(pipeline, idleTimeout, allowedClients);
        api.addTo(pipeline);
    }

    private void http2(ChannelPipeline pipeline) {
        pipeline.addLast("h2", Http2FrameCodecBuilder.forServer()
                .initialSettings(Http2Settings.defaultSettings().maxConcurrentStreams(MAX_CONCURRENT_STREAMS)
                        .maxHeaderListSize(MAX_HEADER_LIST_SIZE))
                .build());
        pipeline.addLast("h2-idle", HttpBasics.idleCloser(idleTimeout));
        pipeline.addLast("h2-streams", new Http2MultiplexHandler(new ChannelInitializer<Http2StreamChannel>() {
            @Override
            protected void initChannel(Http2StreamChannel stream) {
                HttpBasics.addStreamTo(stream.pipeline(), idleTimeout, allowedClients);
                api.addTo(stream.pipeline());
            }
        }));
    }
}
