package dev.regmirror.server.http;

import dev.regmirror.core.mirror.BlobSource;
import dev.regmirror.core.mirror.Futures;
import dev.regmirror.core.reference.Digest;
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
import java.io.IOException;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends a blob body: a cached blob as a zero-copy {@link DefaultFileRegion}, a blob still filling
 * by following its ingest file as it grows ({@link FillFollower}). Called on the channel's event
 * loop once the source is open.
 */
public final class BlobResponder {

    private static final Logger LOG = LoggerFactory.getLogger(BlobResponder.class);

    private final Executor diskExecutor;

    public BlobResponder(Executor diskExecutor) {
        this.diskExecutor = diskExecutor;
    }

    /** Sends the headers of a 200 for the blob, then (for GET) its body. */
    public void send(ChannelHandlerContext ctx, Digest digest, BlobSource source, boolean head, boolean keepAlive) {
        HttpResponse response = headers(digest, source.size(), keepAlive);
        if (head) {
            closeQuietly(source);
            HttpUtil.setTransferEncodingChunked(response, false);
            ctx.write(response);
            ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
            return;
        }
        ctx.write(response);
        if (source instanceof BlobSource.Cached cached) {
            ctx.write(new PinnedFileRegion(cached.blob(), 0, cached.size()));
            ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
        } else if (source instanceof BlobSource.Direct direct) {
            ctx.flush();
            direct.body().publisher().subscribe(new DirectRelay(ctx, direct.digest(), direct.size()));
        } else {
            BlobSource.Filling filling = (BlobSource.Filling) source;
            ctx.flush();
            Futures.supplyOn(diskExecutor, () -> filling.fill().openReader()).whenComplete((reader, failure) ->
                    ctx.executor().execute(() -> {
                        if (failure != null) {
                            LOG.warn("cannot read blob {} while it fills: {}", digest.shortForm(), failure.toString());
                            ctx.close();
                            return;
                        }
                        new FillFollower(ctx, filling.fill(), reader, diskExecutor).step();
                    }));
        }
    }

    /** The 200 headers of a blob of this size (-1: unknown, sent chunked). */
    public static HttpResponse headers(Digest digest, long size, boolean keepAlive) {
        HttpResponse response = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_OCTET_STREAM);
        response.headers().set(Responses.CONTENT_DIGEST_HEADER, digest.toString());
        response.headers().set(HttpHeaderNames.ETAG, "\"" + digest + "\"");
        if (size >= 0) {
            response.headers().set(HttpHeaderNames.CONTENT_LENGTH, size);
        } else {
            HttpUtil.setTransferEncodingChunked(response, true);
        }
        return Responses.withApiHeaders(response, keepAlive);
    }

    private static void closeQuietly(BlobSource source) {
        if (source instanceof BlobSource.Cached cached) {
            try {
                cached.blob().close();
            } catch (IOException e) {
                LOG.debug("closing {}: {}", cached.blob().blob().path(), e.toString());
            }
        }
    }
}
