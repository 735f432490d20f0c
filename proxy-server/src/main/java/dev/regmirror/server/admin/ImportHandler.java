package dev.regmirror.server.admin;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.regmirror.core.admin.ArchiveImport;
import dev.regmirror.core.error.InvalidRequestException;
import dev.regmirror.core.error.Printable;
import dev.regmirror.core.error.RegistryErrorCode;
import dev.regmirror.core.mirror.Futures;
import dev.regmirror.core.storage.CacheLayout;
import dev.regmirror.server.http.ErrorResponder;
import dev.regmirror.server.http.Responses;
import dev.regmirror.server.pipeline.RequestTarget;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code POST /admin/import}: streams the body, an image archive, into a file in the cache's
 * {@code ingest/} area on the disk executor (reading from the socket again only once a chunk is
 * written), then has {@link ArchiveImport} put its images into the cache on the maintenance executor
 * (one import, purge or prune at a time, never on a shared disk thread) and answers what it
 * imported. A body the HTTP decoder could not read (a broken chunk) is 400 BODY_INVALID and its
 * file is deleted. It sits before the admin pipeline's small aggregator, so it checks the
 * token or the console session (with its CSRF token) itself.
 * One per channel; the connection closes after the answer.
 */
public final class ImportHandler extends ChannelInboundHandlerAdapter {

    static final String PATH = "/admin/import";
    private static final Logger LOG = LoggerFactory.getLogger(ImportHandler.class);

    private enum State { PASSING, RECEIVING, DISCARDING }

    private final AdminAuthHandler auth;
    private final ArchiveImport imports;
    private final Executor diskExecutor;
    private final Executor maintenance;
    private final CacheLayout layout;
    private final Duration idleTimeout;
    private final ObjectMapper mapper;
    private final ErrorResponder errors;

    private State state = State.PASSING;
    private HttpMethod method;
    private Throwable refusal;
    /** Written and read on the disk executor only, in the order of the write chain. */
    private Path file;
    private FileChannel channel;
    private volatile Exception writeFailure;
    private CompletableFuture<Void> writes = CompletableFuture.completedFuture(null);
    private int pending;

    /** A new handler per admin channel, all importing through {@code imports} into the cache of {@code layout}. */
    public static Supplier<ImportHandler> factory(AdminAuthHandler auth, ArchiveImport imports, CacheLayout layout,
                                                  Executor diskExecutor, Executor maintenance,
                                                  Duration idleTimeout, ObjectMapper mapper, ErrorResponder errors) {
        return () -> new ImportHandler(auth, imports, diskExecutor, maintenance, layout, idleTimeout, mapper, errors);
    }

    ImportHandler(AdminAuthHandler auth, ArchiveImport imports, Executor diskExecutor, Executor maintenance,
                  CacheLayout layout, Duration idleTimeout, ObjectMapper mapper, ErrorResponder errors) {
        this.auth = auth;
        this.imports = imports;
        this.diskExecutor = diskExecutor;
        this.maintenance = maintenance;
        this.layout = layout;
        this.idleTimeout = idleTimeout;
        this.mapper = mapper;
        this.errors = errors;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (state == State.PASSING) {
            if (msg instanceof HttpRequest request && PATH.equals(RequestTarget.rawPathOf(request.uri()))) {
                start(ctx, request);
                if (msg instanceof HttpContent content) {
                    body(ctx, content);
                } else {
                    ReferenceCountUtil.release(msg);
                }
                return;
            }
            ctx.fireChannelRead(msg);
            return;
        }
        if (msg instanceof HttpContent content) {
            body(ctx, content);
        } else {
            ReferenceCountUtil.release(msg);
        }
    }

    private void start(ChannelHandlerContext ctx, HttpRequest request) {
        method = request.method();
        refusal = auth.streamingRefusal(ctx, request);
        if (refusal == null && !HttpMethod.POST.equals(method)) {
            refusal = new InvalidRequestException(RegistryErrorCode.UNSUPPORTED, method.name() + " " + PATH
                    + " is not supported; POST an image archive to it", null, Map.of("Allow", "POST"));
        } else if (refusal == null && request.decoderResult().isFailure()) {
            refusal = malformed(request.decoderResult().cause());
        }
        if (refusal != null) {
            state = State.DISCARDING;
            if (HttpUtil.is100ContinueExpected(request)) {
                errors.send(ctx, method, false, refusal);
                refusal = null;
            }
            return;
        }
        state = State.RECEIVING;
        // The shared idle handler sits after this one and would not see the body arrive; watch reads here
        // while it does, and nothing while the archive is imported (the connection closes after the answer).
        if (ctx.pipeline().get("idle") != null) {
            ctx.pipeline().remove("idle");
        }
        ctx.pipeline().addBefore(ctx.name(), "import-idle", new IdleStateHandler(idleTimeout.toMillis(), 0, 0,
                TimeUnit.MILLISECONDS) {
            @Override
            protected void channelIdle(ChannelHandlerContext idle, IdleStateEvent event) {
                idle.close();
            }
        });
        if (HttpUtil.is100ContinueExpected(request)) {
            ctx.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE));
        }
    }

    private void body(ChannelHandlerContext ctx, HttpContent content) {
        boolean last = content instanceof LastHttpContent;
        if (state != State.RECEIVING) {
            content.release();
            if (last && refusal != null) {
                errors.send(ctx, method, false, refusal);
                refusal = null;
            }
            return;
        }
        if (content.decoderResult().isFailure()) {
            content.release();
            state = State.DISCARDING;
            if (ctx.pipeline().get("import-idle") != null) {
                ctx.pipeline().remove("import-idle");
            }
            InvalidRequestException failure = malformed(content.decoderResult().cause());
            writes.thenRunAsync(this::discardFile, diskExecutor)
                    .whenComplete((ignored, error) -> ctx.executor().execute(() -> errors.send(ctx, method, false,
                            failure)));
            return;
        }
        ByteBuf bytes = content.content();
        pending++;
        ctx.channel().config().setAutoRead(false);
        writes = writes.thenRunAsync(() -> write(bytes), diskExecutor);
        writes.whenComplete((ignored, failure) -> ctx.executor().execute(() -> {
            pending--;
            if (pending == 0 && state == State.RECEIVING) {
                ctx.channel().config().setAutoRead(true);
                ctx.read();
            }
        }));
        if (last) {
            state = State.DISCARDING;
            if (ctx.pipeline().get("import-idle") != null) {
                ctx.pipeline().remove("import-idle");
            }
            finish(ctx);
        }
    }

    /** On the disk executor, in order: appends a chunk unless an earlier one failed. */
    private void write(ByteBuf bytes) {
        try {
            if (writeFailure != null || (channel == null && !bytes.isReadable())) {
                return;
            }
            if (channel == null) {
                // UUID.randomUUID reads the system's random source: not on an event loop.
                file = layout.scratchFile("import", ".tar");
                channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
            }
            var buffer = bytes.nioBuffer();
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
        } catch (IOException | RuntimeException e) {
            // Recorded, never thrown: a step that threw would skip the later ones, leaking their
            // buffers and the ingest file.
            writeFailure = e;
        } finally {
            bytes.release();
        }
    }

    private void finish(ChannelHandlerContext ctx) {
        writes.thenCompose(ignored -> Futures.supplyOn(maintenance, () -> {
            try {
                closeFile();
                if (writeFailure != null) {
                    throw new IOException("receive the archive into " + file, writeFailure);
                }
                if (channel == null) {
                    throw new InvalidRequestException(RegistryErrorCode.BODY_INVALID,
                            "the request has no body: POST an image archive (a tar)");
                }
                return imports.run(file);
            } finally {
                if (file != null) {
                    Files.deleteIfExists(file);
                }
            }
        })).whenComplete((imported, failure) -> ctx.executor().execute(() -> {
            if (failure != null) {
                errors.send(ctx, method, false, failure);
                return;
            }
            imported.forEach(image -> LOG.info("imported {}:{} {} ({} bytes)", image.name(), image.tag(), image.digest(),
                    image.bytes()));
            Responses.sendFull(ctx, HttpResponseStatus.OK, "application/json; charset=utf-8",
                    Unpooled.wrappedBuffer(Responses.json(mapper, toJson(imported))), false, false, null);
        }));
    }

    private void closeFile() throws IOException {
        if (channel != null && channel.isOpen()) {
            channel.close();
        }
    }

    /** On the disk executor, after the writes: closes and deletes the ingest file of a body that is not imported. */
    private void discardFile() {
        try {
            closeFile();
            if (file != null) {
                Files.deleteIfExists(file);
            }
        } catch (IOException ignored) {
            // the start-up sweep of ingest/ removes it
        }
    }

    private static InvalidRequestException malformed(Throwable cause) {
        return new InvalidRequestException(RegistryErrorCode.BODY_INVALID, "the request could not be read as HTTP: "
                + (cause == null ? "malformed" : Printable.of(String.valueOf(cause.getMessage()))));
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (state == State.RECEIVING) {
            state = State.DISCARDING;
            writes.thenRunAsync(this::discardFile, diskExecutor);
        }
        ctx.fireChannelInactive();
    }

    private ObjectNode toJson(List<ArchiveImport.Imported> imported) {
        ObjectNode body = mapper.createObjectNode();
        ArrayNode images = body.putArray("images");
        for (ArchiveImport.Imported image : imported) {
            ObjectNode entry = images.addObject();
            entry.put("name", image.name());
            if (image.tag() == null) {
                entry.putNull("tag");
            } else {
                entry.put("tag", image.tag());
            }
            entry.put("digest", image.digest().toString());
            entry.put("bytes", image.bytes());
        }
        return body;
    }
}
