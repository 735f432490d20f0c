package dev.regmirror.server.v2;

import dev.regmirror.core.blob.StoredBlob;
import dev.regmirror.core.hosted.ChunkWriter;
import dev.regmirror.core.hosted.Upload;
import dev.regmirror.core.hosted.UploadId;
import dev.regmirror.core.hosted.Uploads;
import dev.regmirror.core.mirror.Futures;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.server.http.ErrorResponder;
import dev.regmirror.server.http.Responses;
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
import java.io.IOException;
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
 * closed. One instance for every channel; each channel's body in progress is an {@link UploadBody}.
 */
@Sharable
public final class UploadHandler extends ChannelInboundHandlerAdapter {

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
        UploadBody body = UploadBody.current(ctx.channel());
        if (msg instanceof HttpContent content && body != null) {
            body.take(content);
        } else if (msg instanceof V2Request.UploadStart start) {
            begin(ctx, start, () -> start(start));
        } else if (msg instanceof V2Request.UploadChunk chunk) {
            begin(ctx, chunk, () -> {
                ChunkWriter writer = uploads.chunk(chunk.route(), chunk.id(), chunk.contentRange(), chunk.contentLength());
                return new UploadBody.Plan(writer, () -> accepted(chunk.written(), writer.complete(), chunk.keepAlive()));
            });
        } else if (msg instanceof V2Request.UploadFinish finish) {
            begin(ctx, finish, () -> {
                ChunkWriter writer = uploads.chunk(finish.route(), finish.id(), finish.contentRange(),
                        finish.contentLength());
                return new UploadBody.Plan(writer, () -> {
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
    private UploadBody.Plan start(V2Request.UploadStart request) throws IOException {
        if (request.mount().isPresent()) {
            Optional<StoredBlob> mounted = uploads.mount(request.route(), request.mount().get(), request.from());
            if (mounted.isPresent()) {
                return UploadBody.Plan.answer(created(request.written(), mounted.get().digest(), request.keepAlive()));
            }
        }
        Upload upload = uploads.start(request.route());
        if (request.digest().isEmpty()) {
            return UploadBody.Plan.answer(accepted(request.written(), upload, request.keepAlive()));
        }
        Digest digest = request.digest().get();
        ChunkWriter writer = monolithic(request, upload.id(),
                uploads.chunk(request.route(), upload.id(), Optional.empty(), request.contentLength()));
        return new UploadBody.Plan(writer, () -> {
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

    /** The one chunk of a monolithic upload, which nobody else knows of: given up with it. */
    private ChunkWriter monolithic(V2Request.UploadStart request, UploadId id, ChunkWriter chunk) {
        return new ChunkWriter() {
            @Override
            public void write(java.nio.ByteBuffer buffer) throws IOException {
                chunk.write(buffer);
            }

            @Override
            public long written() {
                return chunk.written();
            }

            @Override
            public Upload complete() throws IOException {
                return chunk.complete();
            }

            @Override
            public void abort() {
                chunk.abort();
                cancelQuietly(request, id);
            }
        };
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
        UploadBody body = UploadBody.begin(ctx, request, diskExecutor, errors);
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
        UploadBody.Plan prepare() throws IOException;
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        UploadBody.closed(ctx.channel());
        ctx.fireChannelInactive();
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
