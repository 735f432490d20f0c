package dev.regmirror.server.admin;

import dev.regmirror.core.admin.ImageArchive;
import dev.regmirror.core.admin.ImageArchiveWriter;
import dev.regmirror.core.blob.OpenBlob;
import dev.regmirror.core.cache.TagStore;
import dev.regmirror.core.error.InvalidRequestException;
import dev.regmirror.core.hosted.HostedStore;
import dev.regmirror.core.error.RegistryErrorCode;
import dev.regmirror.core.manifest.Descriptor;
import dev.regmirror.core.manifest.ManifestBytes;
import dev.regmirror.core.mirror.Futures;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.reference.ImageReference;
import dev.regmirror.core.reference.Tag;
import dev.regmirror.core.storage.CacheStorage;
import dev.regmirror.core.upstream.Route;
import dev.regmirror.core.upstream.RouteRequest;
import dev.regmirror.core.upstream.UpstreamRouter;
import dev.regmirror.server.http.ErrorResponder;
import dev.regmirror.server.http.Responses;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.Channels;
import java.util.Optional;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /admin/export?image=}: a cached or hosted image as a tar ({@link ImageArchiveWriter})
 * read from the cache only, never an upstream (a hosted image from its repository's tags and
 * manifests, as its pulls see them). The tag, manifests and every blob are checked on the disk
 * executor before the 200 (else 404 MANIFEST_UNKNOWN or BLOB_UNKNOWN); then the tar is written on an
 * export thread into the response through a {@link ChannelOutputStream} that waits while the
 * client is slow.
 */
@Sharable
public final class ExportHandler extends SimpleChannelInboundHandler<AdminRequest.Export> {

    private static final Logger LOG = LoggerFactory.getLogger(ExportHandler.class);

    private final CacheStorage storage;
    private final UpstreamRouter router;
    private final Executor diskExecutor;
    private final Executor exportExecutor;
    private final ErrorResponder errors;

    /**
     * @param diskExecutor   where the export is planned (manifests read, blobs checked)
     * @param exportExecutor where the archive is written, as fast as the client reads it: threads of
     *                       their own, so that a slow download holds none of the disk threads pulls use
     */
    public ExportHandler(CacheStorage storage, UpstreamRouter router, Executor diskExecutor, Executor exportExecutor,
                         ErrorResponder errors) {
        this.storage = storage;
        this.router = router;
        this.diskExecutor = diskExecutor;
        this.exportExecutor = exportExecutor;
        this.errors = errors;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, AdminRequest.Export request) {
        Futures.supplyOn(diskExecutor, () -> plan(request)).whenComplete((export, failure) -> ctx.executor().execute(() -> {
            if (failure != null) {
                errors.send(ctx, request.method(), request.keepAlive(), Futures.unwrap(failure));
                return;
            }
            HttpResponse response = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
            response.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/x-tar");
            response.headers().set(HttpHeaderNames.CONTENT_DISPOSITION,
                    "attachment; filename=\"" + fileName(export.plan().reference()) + "\"");
            HttpUtil.setKeepAlive(response, request.keepAlive());
            if (request.isHead()) {
                HttpUtil.setTransferEncodingChunked(response, true);
                ctx.write(response);
                ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT).addListener(end(request));
                return;
            }
            response.headers().set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
            ctx.writeAndFlush(response);
            exportExecutor.execute(() -> stream(ctx, request, export));
        }));
    }

    /** A checked plan, and where its blobs are read from. */
    private record Planned(ImageArchiveWriter.Plan plan, ImageArchiveWriter.Source source) {
    }

    private static ChannelFutureListener end(AdminRequest request) {
        return request.keepAlive() ? ChannelFutureListener.CLOSE_ON_FAILURE : ChannelFutureListener.CLOSE;
    }

    /** On the disk executor: the tar into the response; a failure half-way can only cut the connection. */
    private void stream(ChannelHandlerContext ctx, AdminRequest.Export request, Planned export) {
        ImageArchive archive = ImageArchive.tar(new ChannelOutputStream(ctx));
        try {
            ImageArchiveWriter.write(export.plan(), export.source(), archive);
            archive.close();
            ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT).addListener(end(request));
        } catch (IOException | InterruptedException | RuntimeException e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            archive.discard();
            LOG.warn("export of {} stopped half-way: {}", export.plan().reference(), e.toString());
            ctx.close();
        }
    }

    /**
     * On the disk executor: the image's manifests from the cache, or from its hosted repository, and
     * proof that every blob is there.
     */
    private Planned plan(AdminRequest.Export request) throws IOException, InterruptedException {
        ImageReference image = request.image();
        Route route = router.route(new RouteRequest(image.name(), request.namespace(), Optional.empty()));
        Optional<HostedStore> hosted = route.hosted() ? storage.hosted() : Optional.empty();
        Digest digest;
        if (image.digest().isPresent()) {
            digest = image.digest().get();
        } else if (route.hosted()) {
            Tag tag = image.tag().orElseThrow();
            Optional<Digest> tagged = hosted.isPresent() ? hosted.get().tag(route, tag) : Optional.empty();
            digest = tagged.orElseThrow(() -> new InvalidRequestException(RegistryErrorCode.MANIFEST_UNKNOWN,
                    "the hosted repository " + route + " has no tag " + tag));
        } else {
            digest = storage.tags().get(route, image.tag().orElseThrow()).map(TagStore.Resolution::digest)
                    .orElseThrow(() -> new InvalidRequestException(RegistryErrorCode.MANIFEST_UNKNOWN,
                            image + " is not in the cache (export answers from the cache only; pull it first)"));
        }
        ImageArchiveWriter.Source source = source(route, hosted);
        ManifestBytes top = source.manifest(digest);
        ImageArchiveWriter.Plan plan = ImageArchiveWriter.plan(image, top, request.format(), request.platform(), false,
                source, notice -> LOG.info("export: {}", notice));
        for (Descriptor blob : plan.blobs()) {
            if (storage.blobs().find(blob.digest()).isEmpty()) {
                throw new InvalidRequestException(RegistryErrorCode.BLOB_UNKNOWN, "blob " + blob.digest() + " of " + image
                        + " is not in the cache (export answers from the cache only; pull the image again)");
            }
        }
        return new Planned(plan, source);
    }

    /**
     * Manifests and blobs from the cache; what it lacks is 404. For a hosted route, only the
     * manifests pushed to that repository, as its {@code GET /v2/<name>/manifests/} answers them.
     */
    private ImageArchiveWriter.Source source(Route route, Optional<HostedStore> hosted) {
        return new ImageArchiveWriter.Source() {
            @Override
            public ManifestBytes manifest(Digest digest) throws IOException {
                boolean readable = !route.hosted() || hosted.isPresent() && hosted.get().hasManifest(route, digest);
                return (readable ? storage.manifests().get(digest) : Optional.<ManifestBytes>empty())
                        .orElseThrow(() -> new InvalidRequestException(RegistryErrorCode.MANIFEST_UNKNOWN, "manifest "
                                + digest + (route.hosted() ? " is not in the hosted repository " + route
                                : " is not in the cache")));
            }

            @Override
            public InputStream blob(Digest digest, long size) throws IOException {
                return cachedBlob(digest, size);
            }
        };
    }

    /** A blob of the store as a stream, closed with the store's handle on it. */
    private InputStream cachedBlob(Digest digest, long size) throws IOException {
        OpenBlob open = storage.blobs().open(digest).orElseThrow(() -> new IOException(
                "blob " + digest + " left the cache during the export"));
        InputStream in;
        try {
            // An empty blob has no byte range to ask a remote store for.
            in = open.content() instanceof OpenBlob.LocalFile local
                    ? Channels.newInputStream(local.channel())
                    : size == 0 ? InputStream.nullInputStream()
                    : ((OpenBlob.Remote) open.content()).reader().open(0, size - 1);
        } catch (IOException | RuntimeException e) {
            open.close();
            throw e;
        }
        return new FilterInputStream(in) {
            @Override
            public void close() throws IOException {
                try {
                    super.close();
                } finally {
                    open.close();
                }
            }
        };
    }

    /** {@code <name>_<tag>.tar}, the name's last component, safe in a header. */
    static String fileName(ImageReference image) {
        String name = image.repository().toString();
        name = name.substring(name.lastIndexOf('/') + 1);
        String version = image.tag().map(tag -> tag.value())
                .orElseGet(() -> image.digest().map(Digest::hex).map(hex -> hex.substring(0, 12)).orElse("latest"));
        return (name + "_" + version + ".tar").replaceAll("[^A-Za-z0-9._-]", "_");
    }
}
