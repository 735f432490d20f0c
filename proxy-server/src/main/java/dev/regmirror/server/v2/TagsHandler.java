package dev.regmirror.server.v2;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.regmirror.core.client.TagList;
import dev.regmirror.core.mirror.PullThroughTags;
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
import java.util.Optional;

/**
 * {@code GET /v2/<name>/tags/list}: the upstream's tags, under the name the client asked for, with
 * the next page's {@code Link} pointing back at this mirror in the client's own form of the path.
 */
@Sharable
public final class TagsHandler extends SimpleChannelInboundHandler<V2Request.Tags> {

    private final PullThroughTags tags;
    private final ObjectMapper mapper;
    private final ErrorResponder errors;

    public TagsHandler(PullThroughTags tags, ObjectMapper mapper, ErrorResponder errors) {
        this.tags = tags;
        this.mapper = mapper;
        this.errors = errors;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, V2Request.Tags request) {
        tags.list(request.route(), request.n(), request.last()).whenComplete((list, failure) -> ctx.executor().execute(() -> {
            if (failure != null) {
                errors.send(ctx, request.method(), request.keepAlive(), failure);
            } else {
                respond(ctx, request, list);
            }
        }));
    }

    private void respond(ChannelHandlerContext ctx, V2Request.Tags request, TagList list) {
        ObjectNode body = mapper.createObjectNode();
        body.put("name", request.requestedName());
        list.tags().forEach(body.putArray("tags")::add);
        HttpResponse headers = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        list.next().ifPresent(last -> headers.headers().set("Link", PageLinks.next(request.path(), request.namespace(),
                request.n().isPresent() ? Optional.of(request.n().getAsInt()) : Optional.empty(), last)));
        Responses.sendFull(ctx, HttpResponseStatus.OK, "application/json; charset=utf-8",
                Unpooled.wrappedBuffer(Responses.json(mapper, body)), request.isHead(), request.keepAlive(), headers);
    }
}
