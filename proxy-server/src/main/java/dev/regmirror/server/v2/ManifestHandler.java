package dev.regmirror.server.v2;

import dev.regmirror.core.cache.PullStore;
import dev.regmirror.core.reference.Tag;
import dev.regmirror.core.manifest.AcceptNegotiation;
import dev.regmirror.core.manifest.ManifestBytes;
import dev.regmirror.core.mirror.ManifestAnswer;
import dev.regmirror.core.mirror.PullThroughManifests;
import dev.regmirror.server.http.ErrorResponder;
import dev.regmirror.server.http.Responses;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.List;

/**
 * {@code GET|HEAD /v2/<name>/manifests/<reference>}: the manifest as stored, with its media type,
 * length, digest and ETag; HEAD carries the same headers as GET; a matching If-None-Match is 304. A
 * manifest served stale carries {@code Warning: 299} saying why. An answered request by tag counts as
 * a pull of that tag in the {@link PullStore}.
 */
@Sharable
public final class ManifestHandler extends SimpleChannelInboundHandler<V2Request.Manifest> {

    private final PullThroughManifests manifests;
    private final PullStore pulls;
    private final ErrorResponder errors;
    /** The last Accept headers parsed: a client sends the same ones with every request. */
    private volatile ParsedAccept lastAccept = new ParsedAccept(List.of(), AcceptNegotiation.of(List.of()));

    private record ParsedAccept(List<String> headers, AcceptNegotiation negotiation) {
    }

    public ManifestHandler(PullThroughManifests manifests, PullStore pulls, ErrorResponder errors) {
        this.manifests = manifests;
        this.pulls = pulls;
        this.errors = errors;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, V2Request.Manifest request) {
        manifests.get(request.route(), request.reference(), accept(request.accept()))
                .whenComplete((answer, failure) -> {
                    // A manifest in memory is answered at once, still on the event loop: no task to queue.
                    if (ctx.executor().inEventLoop()) {
                        answer(ctx, request, answer, failure);
                    } else {
                        ctx.executor().execute(() -> answer(ctx, request, answer, failure));
                    }
                });
    }

    private void answer(ChannelHandlerContext ctx, V2Request.Manifest request, ManifestAnswer answer, Throwable failure) {
        if (failure != null) {
            errors.send(ctx, request.method(), request.keepAlive(), failure);
            return;
        }
        if (request.reference() instanceof Tag tag) {
            pulls.record(request.route(), tag);
        }
        respond(ctx, request, answer);
    }

    private AcceptNegotiation accept(List<String> headers) {
        ParsedAccept last = lastAccept;
        if (last.headers().equals(headers)) {
            return last.negotiation();
        }
        AcceptNegotiation parsed = AcceptNegotiation.of(headers);
        lastAccept = new ParsedAccept(List.copyOf(headers), parsed);
        return parsed;
    }

    /** Answers with a manifest: its headers, 304 for a matching If-None-Match, the bytes unless HEAD. */
    static void respond(ChannelHandlerContext ctx, V2Request.Manifest request, ManifestAnswer answer) {
        ManifestBytes manifest = answer.manifest();
        String digest = manifest.digest().toString();
        String etag = "\"" + digest + "\"";
        FullHttpResponse response = etag.equals(request.ifNoneMatch()) || digest.equals(request.ifNoneMatch())
                ? Responses.full(HttpResponseStatus.NOT_MODIFIED, null, Unpooled.EMPTY_BUFFER, true, request.keepAlive(),
                        null)
                : Responses.full(HttpResponseStatus.OK, manifest.mediaType(), Unpooled.wrappedBuffer(manifest.bytes()),
                        request.isHead(), request.keepAlive(), null);
        // Set on the response itself: no second header set to build and copy for every request.
        HttpHeaders headers = response.headers();
        answer.staleBecause().ifPresent(why -> headers.set("Warning", Responses.staleWarning(why)));
        headers.set(Responses.CONTENT_DIGEST_HEADER, digest);
        headers.set(HttpHeaderNames.ETAG, etag);
        ctx.writeAndFlush(response);
    }
}
