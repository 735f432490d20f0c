package dev.regmirror.server.http;

import dev.regmirror.core.blob.OpenBlob;
import dev.regmirror.core.mirror.BlobSource;
import dev.regmirror.core.mirror.Futures;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.upstream.Route;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.DefaultFileRegion;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.ssl.SslHandler;
import java.io.IOException;
import java.util.Optional;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends a blob body, whole (200) or one {@link ContentRange} of it (206): a cached blob as a
 * zero-copy {@link DefaultFileRegion} ({@link PinnedFileRegion}) on plain HTTP/1.1, as buffers read
 * on the disk executor under TLS and HTTP/2 ({@link BufferedFileSender}); a blob still filling by
 * following its ingest file as it grows ({@link FillFollower}); one the cache cannot store straight
 * through, whole ({@link DirectRelay}). A blob in an object store is sent as buffers read in order
 * from a ranged stream ({@link RemoteRange}), or, when the store offers it, answered 307 to a
 * presigned URL. Called on the channel's event loop once the source is open.
 */
public final class BlobResponder {

    private static final Logger LOG = LoggerFactory.getLogger(BlobResponder.class);

    private final Executor diskExecutor;
    private final MeterRegistry meters;

    /** @param meters where {@code regmirror.served.bytes} (by upstream and source) is kept */
    public BlobResponder(Executor diskExecutor, MeterRegistry meters) {
        this.diskExecutor = diskExecutor;
        this.meters = meters;
    }

    /**
     * Sends the headers for the blob, then its body: all of it when {@code part} is empty, else
     * that part, which the caller has checked lies within a cached or filling blob of known size.
     */
    public void send(ChannelHandlerContext ctx, Route route, Digest digest, BlobSource source,
                     Optional<ContentRange> part, boolean keepAlive) {
        if (source instanceof BlobSource.Cached cached && cached.blob().content() instanceof OpenBlob.Remote remote
                && remote.redirect().isPresent()) {
            // Signing may resolve credentials (an instance role): off the event loop.
            Futures.supplyOn(diskExecutor, () -> remote.redirect().get().get()).whenComplete((location, failure) ->
                    ctx.executor().execute(() -> {
                        if (failure != null) {
                            LOG.warn("cannot sign a redirect for blob {}, sending it: {}", digest.shortForm(),
                                    failure.toString());
                            sendBody(ctx, route, digest, source, part, keepAlive);
                            return;
                        }
                        discard(source);
                        redirects(route.registry()).increment();
                        HttpResponse headers = new DefaultHttpResponse(HttpVersion.HTTP_1_1,
                                HttpResponseStatus.TEMPORARY_REDIRECT);
                        headers.headers().set(HttpHeaderNames.LOCATION, location.toString());
                        headers.headers().set(Responses.CONTENT_DIGEST_HEADER, digest.toString());
                        Responses.sendFull(ctx, HttpResponseStatus.TEMPORARY_REDIRECT, null, Unpooled.EMPTY_BUFFER,
                                false, keepAlive, headers);
                    }));
            return;
        }
        sendBody(ctx, route, digest, source, part, keepAlive);
    }

    private void sendBody(ChannelHandlerContext ctx, Route route, Digest digest, BlobSource source,
                          Optional<ContentRange> part, boolean keepAlive) {
        ctx.write(headers(digest, source.size(), part, keepAlive));
        long start = part.map(ContentRange::first).orElse(0L);
        boolean zeroCopy = zeroCopy(ctx);
        if (source instanceof BlobSource.Cached cached) {
            long count = part.map(ContentRange::length).orElse(cached.size());
            Counter fromCache = served(route.registry(), "cache");
            if (cached.blob().content() instanceof OpenBlob.Remote remote) {
                ctx.flush();
                RemoteRange range = new RemoteRange(remote.reader(), start, count);
                BufferedFileSender.send(ctx, range, start, count, diskExecutor, fromCache::increment)
                        .whenComplete((sent, failure) -> {
                            range.close();
                            discard(source);
                            ctx.executor().execute(() -> {
                                if (failure == null) {
                                    ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
                                } else {
                                    LOG.debug("sending blob {} from the store: {}", digest.shortForm(), failure.toString());
                                    ctx.close();
                                }
                            });
                        });
                return;
            }
            if (zeroCopy) {
                PinnedFileRegion region = new PinnedFileRegion(cached.blob(), start, count);
                ctx.write(region).addListener(written -> fromCache.increment(written.isSuccess() ? count : region.transferred()));
                ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
                return;
            }
            ctx.flush();
            BufferedFileSender.send(ctx, cached.blob().file().orElseThrow(), start, count, diskExecutor,
                    fromCache::increment)
                    .whenComplete((sent, failure) -> {
                        discard(source);
                        ctx.executor().execute(() -> {
                            if (failure == null) {
                                ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
                            } else {
                                ctx.close();
                            }
                        });
                    });
            return;
        }
        Counter fromUpstream = served(route.registry(), "upstream");
        if (source instanceof BlobSource.Direct direct) {
            ctx.flush();
            long first = part.map(ContentRange::first).orElse(0L);
            long end = part.map(p -> p.last() + 1).orElse(Long.MAX_VALUE);
            direct.body().publisher().subscribe(new DirectRelay(ctx, direct.digest(), direct.size(), first, end,
                    fromUpstream::increment, diskExecutor));
            return;
        }
        BlobSource.Filling filling = (BlobSource.Filling) source;
        long end = part.map(p -> p.last() + 1).orElse(filling.size() >= 0 ? filling.size() : Long.MAX_VALUE);
        ctx.flush();
        Futures.supplyOn(diskExecutor, () -> filling.fill().openReader()).whenComplete((reader, failure) ->
                ctx.executor().execute(() -> {
                    if (failure != null) {
                        LOG.warn("cannot read blob {} while it fills: {}", digest.shortForm(), failure.toString());
                        ctx.close();
                        return;
                    }
                    new FillFollower(ctx, filling.fill(), reader, start, end, fromUpstream::increment,
                            zeroCopy ? null : diskExecutor).step();
                }));
    }

    /**
     * Whether the connection takes zero-copy file regions: plain HTTP/1.1 does; TLS (which
     * encrypts in user space) and an HTTP/2 stream (which sends frames) take buffers.
     */
    static boolean zeroCopy(ChannelHandlerContext ctx) {
        return !(ctx.channel() instanceof Http2StreamChannel) && ctx.pipeline().get(SslHandler.class) == null;
    }

    /** Cache hits answered with a redirect to the object store, by upstream. */
    private Counter redirects(String upstream) {
        return Counter.builder("regmirror.blob.redirects")
                .description("cache hits answered with a 307 to a presigned URL of the object store")
                .tags("upstream", upstream).register(meters);
    }

    /**
     * Blob bytes sent to clients, by upstream and by where they came from: {@code cache} (a cached
     * blob) or {@code upstream} (followed while it downloads, or streamed through uncached).
     */
    private Counter served(String upstream, String source) {
        return Counter.builder("regmirror.served.bytes").baseUnit("bytes")
                .description("blob bytes sent to clients, from the cache or as they came from the upstream")
                .tags("upstream", upstream, "source", source).register(meters);
    }

    /**
     * The headers of a 200 for a blob of this size (-1: unknown, sent chunked), or of a 206 for
     * {@code part} of it. Both say that ranges are accepted.
     */
    public static HttpResponse headers(Digest digest, long size, Optional<ContentRange> part, boolean keepAlive) {
        HttpResponse response = new DefaultHttpResponse(HttpVersion.HTTP_1_1,
                part.isPresent() ? HttpResponseStatus.PARTIAL_CONTENT : HttpResponseStatus.OK);
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_OCTET_STREAM);
        response.headers().set(Responses.CONTENT_DIGEST_HEADER, digest.toString());
        response.headers().set(HttpHeaderNames.ETAG, "\"" + digest + "\"");
        response.headers().set(HttpHeaderNames.ACCEPT_RANGES, HttpHeaderValues.BYTES);
        if (part.isPresent()) {
            response.headers().set(HttpHeaderNames.CONTENT_RANGE, part.get().toString());
            response.headers().set(HttpHeaderNames.CONTENT_LENGTH, part.get().length());
        } else if (size >= 0) {
            response.headers().set(HttpHeaderNames.CONTENT_LENGTH, size);
        } else {
            HttpUtil.setTransferEncodingChunked(response, true);
        }
        return Responses.withApiHeaders(response, keepAlive);
    }

    /** Lets go of a source whose body will not be sent (a cached blob's file is closed and unpinned). */
    public static void discard(BlobSource source) {
        if (source instanceof BlobSource.Cached cached) {
            try {
                cached.blob().close();
            } catch (IOException e) {
                LOG.debug("closing blob {}: {}", cached.blob().blob().digest().shortForm(), e.toString());
            }
        }
    }
}
