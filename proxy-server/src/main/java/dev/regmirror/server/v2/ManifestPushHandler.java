package dev.regmirror.server.v2;

import dev.regmirror.core.hosted.HostedManifests;
import dev.regmirror.core.mirror.Futures;
import dev.regmirror.server.http.ErrorResponder;
import dev.regmirror.server.http.Responses;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;
import java.io.ByteArrayOutputStream;
import java.util.concurrent.Executor;

/**
 * {@code PUT /v2/<name>/manifests/<reference>} of a hosted repository: collects the streamed body up
 * to {@code regmirror.hosted.max-manifest-size} (a larger one, declared or sent, is answered 413
 * MANIFEST_TOO_LARGE at once, nothing stored, and its connection closed once the rest of the body
 * is read and dropped, up to {@value #LINGER_BYTES} bytes more: a client still sending reads the
 * answer instead of a reset), stores it through
 * {@link HostedManifests} on the disk executor, and answers 201 with {@code Location},
 * {@code Docker-Content-Digest} and, for a manifest with a subject, {@code OCI-Subject}.
 */
@Sharable
public final class ManifestPushHandler extends ChannelInboundHandlerAdapter {

    private static final AttributeKey<Body> BODY = AttributeKey.valueOf(ManifestPushHandler.class, "body");
    /** How much of a refused body is still read (and dropped) before its connection is closed. */
    static final long LINGER_BYTES = 8L << 20;

    private final HostedManifests manifests;
    private final Executor diskExecutor;
    private final ErrorResponder errors;

    public ManifestPushHandler(HostedManifests manifests, Executor diskExecutor, ErrorResponder errors) {
        this.manifests = manifests;
        this.diskExecutor = diskExecutor;
        this.errors = errors;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        Body body = ctx.channel().attr(BODY).get();
        if (msg instanceof HttpContent content && body != null) {
            take(ctx, body, content);
            return;
        }
        if (!(msg instanceof V2Request.ManifestPut request)) {
            ctx.fireChannelRead(msg);
            return;
        }
        Body started = new Body(request);
        ctx.channel().attr(BODY).set(started);
        long declared = request.contentLength().orElse(0);
        if (declared > manifests.maxManifestBytes()) {
            refuse(ctx, started, declared);
            if (declared > manifests.maxManifestBytes() + LINGER_BYTES) {
                ctx.close(); // too much to read for the sake of the answer
            }
        }
    }

    private void take(ChannelHandlerContext ctx, Body body, HttpContent content) {
        try {
            ByteBuf bytes = content.content();
            if (body.refused) {
                body.dropped += bytes.readableBytes();
                if (body.dropped > LINGER_BYTES) {
                    ctx.close();
                }
            } else if (body.size() + bytes.readableBytes() > manifests.maxManifestBytes()) {
                refuse(ctx, body, body.size() + bytes.readableBytes());
            } else {
                body.bytes.writeBytes(ByteBufUtil.getBytes(bytes));
            }
        } finally {
            ReferenceCountUtil.release(content);
        }
        if (content instanceof LastHttpContent) {
            ctx.channel().attr(BODY).set(null);
            if (body.refused) {
                // The answer went out before; the body is read: now the connection goes.
                ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
            } else {
                store(ctx, body.request, body.bytes.toByteArray());
            }
        }
    }

    /**
     * Past the limit: answered now (without {@code Connection: close}), the rest of the body dropped as it
     * comes, the connection closed at its end or past {@link #LINGER_BYTES}. Closing at once would
     * reset a client still sending, which then never reads the answer.
     */
    private void refuse(ChannelHandlerContext ctx, Body body, long size) {
        body.refused = true;
        body.bytes = new ByteArrayOutputStream(0);
        // Not "Connection: close": the keep-alive handler would close at once, under a client still sending.
        errors.send(ctx, body.request.method(), true, manifests.tooLarge(body.request.route(), size));
    }

    private void store(ChannelHandlerContext ctx, V2Request.ManifestPut request, byte[] bytes) {
        Futures.supplyOn(diskExecutor, () -> manifests.push(request.route(), request.reference(), request.contentType(),
                bytes)).whenComplete((pushed, failure) -> ctx.executor().execute(() -> {
                    if (failure != null) {
                        errors.send(ctx, request.method(), request.keepAlive(), failure);
                        return;
                    }
                    HttpResponse headers = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CREATED);
                    headers.headers().set(HttpHeaderNames.LOCATION,
                            request.written().url("manifests/" + pushed.digest()));
                    headers.headers().set(Responses.CONTENT_DIGEST_HEADER, pushed.digest().toString());
                    pushed.subject().ifPresent(subject -> headers.headers().set("OCI-Subject", subject.toString()));
                    Responses.sendFull(ctx, HttpResponseStatus.CREATED, null, Unpooled.EMPTY_BUFFER, false,
                            request.keepAlive(), headers);
                }));
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        ctx.channel().attr(BODY).set(null);
        ctx.fireChannelInactive();
    }

    /** The body of one manifest push as it arrives. */
    private static final class Body {

        private final V2Request.ManifestPut request;
        private ByteArrayOutputStream bytes;
        private boolean refused;
        private long dropped;

        Body(V2Request.ManifestPut request) {
            this.request = request;
            // Sized by the declared length, within reason: it grows if the client said less than it sends.
            this.bytes = new ByteArrayOutputStream((int) Math.min(request.contentLength().orElse(8192), 64 * 1024));
        }

        int size() {
            return bytes.size();
        }
    }
}
