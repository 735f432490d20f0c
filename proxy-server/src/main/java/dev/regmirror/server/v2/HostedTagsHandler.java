package dev.regmirror.server.v2;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.regmirror.core.error.InvalidRequestException;
import dev.regmirror.core.error.RegistryErrorCode;
import dev.regmirror.core.hosted.HostedManifests;
import dev.regmirror.core.mirror.Futures;
import dev.regmirror.core.reference.Tag;
import dev.regmirror.server.http.ErrorResponder;
import dev.regmirror.server.http.PageLinks;
import dev.regmirror.server.http.Responses;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executor;

/**
 * {@code GET /v2/<name>/tags/list} of a hosted repository: its tags in lexical order, {@code n} at a
 * time after {@code last}, with the next page's {@code Link} in the client's form of the path, as
 * {@link TagsHandler} answers for a mirrored one; 404 NAME_UNKNOWN for a repository that holds no
 * manifest. Mirrored names pass on to {@link TagsHandler}.
 */
@Sharable
public final class HostedTagsHandler extends SimpleChannelInboundHandler<V2Request.Tags> {

    private final HostedManifests manifests;
    private final Executor diskExecutor;
    private final ObjectMapper mapper;
    private final ErrorResponder errors;

    public HostedTagsHandler(HostedManifests manifests, Executor diskExecutor, ObjectMapper mapper,
                             ErrorResponder errors) {
        super(false);
        this.manifests = manifests;
        this.diskExecutor = diskExecutor;
        this.mapper = mapper;
        this.errors = errors;
    }

    @Override
    public boolean acceptInboundMessage(Object msg) throws Exception {
        return super.acceptInboundMessage(msg) && ((V2Request.Tags) msg).route().hosted();
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, V2Request.Tags request) {
        Futures.supplyOn(diskExecutor, () -> manifests.tags(request.route()))
                .whenComplete((tags, failure) -> ctx.executor().execute(() -> {
                    if (failure != null) {
                        errors.send(ctx, request.method(), request.keepAlive(), failure);
                    } else if (tags.isEmpty()) {
                        errors.send(ctx, request.method(), request.keepAlive(), new InvalidRequestException(
                                RegistryErrorCode.NAME_UNKNOWN, "repository " + request.route() + " holds nothing"));
                    } else {
                        respond(ctx, request, tags.get());
                    }
                }));
    }

    private void respond(ChannelHandlerContext ctx, V2Request.Tags request, List<Tag> all) {
        List<String> after = all.stream().map(Tag::value)
                .filter(tag -> request.last().isEmpty() || tag.compareTo(request.last().get()) > 0).toList();
        List<String> page = request.n().isPresent() && after.size() > request.n().getAsInt()
                ? after.subList(0, request.n().getAsInt()) : after;
        ObjectNode body = mapper.createObjectNode();
        body.put("name", request.requestedName());
        page.forEach(body.putArray("tags")::add);
        HttpResponse headers = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        if (!page.isEmpty() && page.size() < after.size()) {
            headers.headers().set("Link", PageLinks.next(request.path(), request.namespace(),
                    Optional.of(request.n().getAsInt()), page.get(page.size() - 1)));
        }
        Responses.sendFull(ctx, HttpResponseStatus.OK, "application/json; charset=utf-8",
                Unpooled.wrappedBuffer(Responses.json(mapper, body)), request.isHead(), request.keepAlive(), headers);
    }
}
