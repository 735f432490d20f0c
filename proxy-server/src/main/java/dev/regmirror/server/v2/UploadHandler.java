package dev.regmirror.server.v2;

import dev.regmirror.core.blob.StoredBlob;
import dev.regmirror.core.error.InvalidRequestException;
import dev.regmirror.core.error.RegistryErrorCode;
import dev.regmirror.core.hosted.ChunkWriter;
import dev.regmirror.core.hosted.Upload;
import dev.regmirror.core.hosted.UploadId;
import dev.regmirror.core.hosted.Uploads;
import dev.regmirror.core.mirror.Futures;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.server.http.ErrorResponder;
import dev.regmirror.server.http.Responses;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AttributeKey;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executor;

/**
 * The blob uploads of the
 * <a href="https://github.com/opencontainers/distribution-spec/blob/v1.1.0/spec.md#pushing-blobs">push
 * API</a> on hosted repositories: {@code POST .../blobs/uploads/} starts one (202), or with
 * {@code ?digest=} takes the whole blob (201), or with {@code ?mount=} mounts a stored blob (201,
 * else an ordinary upload is started); {@code PATCH} appends a chunk (202, 416 out of order);
 * {@code PUT ?digest=} appends the last chunk and commits (201); {@code GET} tells how far it got
 * and {@code DELETE} cancels (204). Bodies stream to the upload's file on the disk executor: reading
 * stops while a write is pending and resumes once it is done, so memory stays flat whatever the
 * layer's size. A request refused before its body was read is answered at once and its connection
 * closed. One instance for every channel; each channel's body in progress is kept in an attribute.
 */
@Sharable
public final class UploadHandler extends ChannelInboundHandlerAdapter {

    private static final AttributeKey<Body> BODY = AttributeKey.valueOf(UploadHandler.class, "body");
    private static final String UPLOAD_UUID = "Docker-Upload-UUID";

    private final Uploads uploads;
    private final Executor diskExecutor;
    private final ErrorResponder errors;

    public UploadHandler(Uploads uploads, Executor diskExecutor, ErrorResponder errors) {
        this.uploads = uploads;
        this.diskExecutor = diskExecutor;
        this.errors = errors;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        Body body = ctx.channel().attr(BODY).get();
        if (msg instanceof HttpContent content && body != null) {
            body.take(content);
        } else if (msg instanceof V2Request.UploadStart start) {
            begin(ctx, start, () -> start(start));
        } else if (msg instanceof V2Request.UploadChunk chunk) {
            begin(ctx, chunk, () -> {
                ChunkWriter writer = uploads.chunk(chunk.route(), chunk.id(), chunk.contentRange(), chunk.contentLength());
                return new Plan(writer, () -> accepted(chunk.written(), writer.complete(), chunk.keepAlive()));
            });
        } else if (msg instanceof V2Request.UploadFinish finish) {
            begin(ctx, finish, () -> {
                ChunkWriter writer = uploads.chunk(finish.route(), finish.id(), finish.contentRange(),
                        finish.contentLength());
                return new Plan(writer, () -> {
                    writer.complete();
                    StoredBlob blob = uploads.finish(finish.route(), finish.id(), finish.digest());
                    return created(finish.written(), blob.digest(), finish.keepAlive());
                });
            });
        } else if (msg instanceof V2Request.UploadStatus status) {
            status(ctx, status);
        } else {
            ctx.fireChannelRead(msg);
        }
    }

    /** On the disk executor: what a {@code POST} to the uploads does, once its (empty or whole) body is in. */
    private Plan start(V2Request.UploadStart request) throws IOException {
        if (request.mount().isPresent()) {
            Optional<StoredBlob> mounted = uploads.mount(request.route(), request.mount().get(), request.from());
            if (mounted.isPresent()) {
                return Plan.answer(created(request.written(), mounted.get().digest(), request.keepAlive()));
            }
        }
        Upload upload = uploads.start(request.route());
        if (request.digest().isEmpty()) {
            return Plan.answer(accepted(request.written(), upload, request.keepAlive()));
        }
        Digest digest = request.digest().get();
        ChunkWriter writer = uploads.chunk(request.route(), upload.id(), Optional.empty(), request.contentLength());
        return new Plan(writer, () -> {
            try {
                writer.complete();
                return created(request.written(), uploads.finish(request.route(), upload.id(), digest).digest(),
                        request.keepAlive());
            } catch (IOException | RuntimeException e) {
                cancelQuietly(request, upload.id());
                throw e;
            }
        });
    }

    private void cancelQuietly(V2Request.UploadStart request, UploadId id) {
        try {
            uploads.cancel(request.route(), id);
        } catch (IOException | RuntimeException alreadyOver) {
            // finished (mismatch removes it) or never fully started
        }
    }

    /** {@code GET|HEAD} (204 with the Range so far) or {@code DELETE} (204, cancelled) of an upload. */
    private void status(ChannelHandlerContext ctx, V2Request.UploadStatus request) {
        Futures.supplyOn(diskExecutor, () -> {
            if (request.cancel()) {
                uploads.cancel(request.route(), request.id());
                return noContent(request.keepAlive());
            }
            Upload upload = uploads.status(request.route(), request.id());
            FullHttpResponse response = noContent(request.keepAlive());
            uploadHeaders(response, request.written(), upload);
            return response;
        }).whenComplete((response, failure) -> ctx.executor().execute(() -> {
            if (failure != null) {
                errors.send(ctx, request.method(), request.keepAlive(), failure);
            } else {
                ctx.writeAndFlush(response);
            }
        }));
    }

    /** Takes a push and its body: reading stops until the plan is ready and then goes at the disk's pace. */
    private void begin(ChannelHandlerContext ctx, V2Request.WithBody request, Preparation preparation) {
        ctx.channel().config().setAutoRead(false);
        Body body = new Body(ctx, request);
        ctx.channel().attr(BODY).set(body);
        Futures.supplyOn(diskExecutor, preparation::prepare).whenComplete((plan, failure) ->
                ctx.executor().execute(() -> {
                    if (failure != null) {
                        body.fail(failure);
                    } else {
                        body.ready(plan);
                    }
                }));
    }

    /** On the disk executor: what a push will do with its body, or the refusal to take it. */
    @FunctionalInterface
    private interface Preparation {
        Plan prepare() throws IOException;
    }

    /** On the disk executor, once the body is in: the answer. */
    @FunctionalInterface
    private interface Ending {
        FullHttpResponse end() throws IOException;
    }

    /**
     * What a push does with its body: write it to a chunk of the upload ({@code writer}), or let it
     * go (null: a mount or start takes none); then end, giving the answer.
     */
    private record Plan(ChunkWriter writer, Ending ending) {

        static Plan answer(FullHttpResponse response) {
            return new Plan(null, () -> response);
        }
    }

    /** The body of one push on its way to disk, on the channel's event loop. */
    private final class Body {

        private final ChannelHandlerContext ctx;
        private final V2Request.WithBody request;
        private final ArrayDeque<HttpContent> queued = new ArrayDeque<>();
        private Plan plan;
        private boolean writing;
        private boolean lastSeen;
        private boolean failed;
        private boolean over;

        Body(ChannelHandlerContext ctx, V2Request.WithBody request) {
            this.ctx = ctx;
            this.request = request;
        }

        void take(HttpContent content) {
            if (content instanceof LastHttpContent) {
                lastSeen = true;
            }
            if (failed) {
                content.release();
                if (lastSeen) {
                    done();
                }
                return;
            }
            queued.add(content);
            drain();
        }

        void ready(Plan ready) {
            if (failed) {
                if (ready.writer() != null) {
                    diskExecutor.execute(ready.writer()::abort);
                }
                return;
            }
            plan = ready;
            drain();
        }

        /** Writes what came, one batch at a time; asks for more once the disk has taken it. */
        private void drain() {
            if (plan == null || writing || over) {
                return;
            }
            if (queued.isEmpty()) {
                if (lastSeen) {
                    end();
                } else {
                    ctx.read();
                }
                return;
            }
            List<HttpContent> batch = new ArrayList<>(queued);
            queued.clear();
            writing = true;
            ChunkWriter writer = plan.writer();
            Futures.supplyOn(diskExecutor, () -> {
                try {
                    if (writer != null) {
                        for (HttpContent content : batch) {
                            ByteBuf bytes = content.content();
                            for (ByteBuffer buffer : bytes.nioBuffers(bytes.readerIndex(), bytes.readableBytes())) {
                                writer.write(buffer);
                            }
                        }
                    }
                    return batch.size();
                } finally {
                    batch.forEach(HttpContent::release);
                }
            }).whenComplete((written, failure) -> ctx.executor().execute(() -> {
                writing = false;
                if (failed) {
                    abortWriter(); // failed meanwhile (the client left): the write is over now
                } else if (failure != null) {
                    fail(failure);
                } else {
                    drain();
                }
            }));
        }

        private void end() {
            over = true;
            Futures.supplyOn(diskExecutor, () -> plan.ending().end()).whenComplete((response, failure) ->
                    ctx.executor().execute(() -> {
                        done();
                        if (failure != null) {
                            errors.send(ctx, request.method(), request.keepAlive(), withLocation(failure));
                        } else {
                            ctx.writeAndFlush(response);
                        }
                    }));
        }

        /**
         * Refused, or failed while writing: answered at once, the chunk taken back out, and what
         * still comes of the body dropped with the connection, which closes after the answer.
         */
        void fail(Throwable failure) {
            if (failed || over) {
                return;
            }
            abandon();
            errors.send(ctx, request.method(), false, withLocation(failure));
            if (lastSeen) {
                done();
            } else {
                ctx.read();
            }
        }

        /** Gives the body up: the chunk is taken back out and what came of the body is dropped. */
        void abandon() {
            if (failed || over) {
                return;
            }
            failed = true;
            if (!writing) {
                abortWriter();
            }
            HttpContent content;
            while ((content = queued.poll()) != null) {
                content.release();
            }
        }

        /** Takes the chunk back out of the upload, on the disk executor (never beside a write of it). */
        private void abortWriter() {
            if (plan != null && plan.writer() != null) {
                diskExecutor.execute(plan.writer()::abort);
            }
        }

        /** The body is all in: the channel reads on its own again, for the next request. */
        private void done() {
            if (ctx.channel().attr(BODY).compareAndSet(this, null)) {
                ctx.channel().config().setAutoRead(true);
            }
        }

        /** A 416 of an upload carries its {@code Location}, as the spec asks. */
        private Throwable withLocation(Throwable failure) {
            Throwable cause = Futures.unwrap(failure);
            UploadId id = request instanceof V2Request.UploadChunk chunk ? chunk.id()
                    : request instanceof V2Request.UploadFinish finish ? finish.id() : null;
            if (id != null && cause instanceof InvalidRequestException invalid
                    && invalid.code() == RegistryErrorCode.RANGE_INVALID) {
                Map<String, String> headers = new HashMap<>(invalid.headers());
                headers.put(HttpHeaderNames.LOCATION.toString(), written(request).url("blobs/uploads/" + id));
                return new InvalidRequestException(invalid.code(), invalid.getMessage(), invalid.detail(), headers);
            }
            return cause;
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        Body body = ctx.channel().attr(BODY).getAndSet(null);
        if (body != null) {
            body.abandon(); // the client left: nobody to answer
        }
        ctx.fireChannelInactive();
    }

    private static V2Request.Written written(V2Request.WithBody request) {
        if (request instanceof V2Request.UploadStart start) {
            return start.written();
        }
        if (request instanceof V2Request.UploadChunk chunk) {
            return chunk.written();
        }
        return ((V2Request.UploadFinish) request).written();
    }

    /** 202 Accepted: where to go on, and what the upload holds. */
    private static FullHttpResponse accepted(V2Request.Written written, Upload upload, boolean keepAlive) {
        FullHttpResponse response = empty(HttpResponseStatus.ACCEPTED, keepAlive);
        uploadHeaders(response, written, upload);
        return response;
    }

    /** 201 Created: where the blob now is. */
    private static FullHttpResponse created(V2Request.Written written, Digest digest, boolean keepAlive) {
        FullHttpResponse response = empty(HttpResponseStatus.CREATED, keepAlive);
        response.headers().set(HttpHeaderNames.LOCATION, written.url("blobs/" + digest));
        response.headers().set(Responses.CONTENT_DIGEST_HEADER, digest.toString());
        return response;
    }

    private static FullHttpResponse noContent(boolean keepAlive) {
        return empty(HttpResponseStatus.NO_CONTENT, keepAlive);
    }

    private static void uploadHeaders(FullHttpResponse response, V2Request.Written written, Upload upload) {
        response.headers().set(HttpHeaderNames.LOCATION, written.url("blobs/uploads/" + upload.id()));
        response.headers().set(HttpHeaderNames.RANGE, upload.range());
        response.headers().set(UPLOAD_UUID, upload.id().value());
    }

    private static FullHttpResponse empty(HttpResponseStatus status, boolean keepAlive) {
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.EMPTY_BUFFER);
        response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, 0);
        return Responses.withApiHeaders(response, keepAlive);
    }
}
