package dev.regmirror.server.v2;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.regmirror.core.cache.RepositoryStore;
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

/**
 * {@code GET /v2/_catalog}: the repositories held in the cache, in the client's naming
 * ({@code docker.io/library/nginx}), {@code n} at a time (100 unless asked) after {@code last},
 * with a {@code Link} to the next page. Served from memory.
 */
@Sharable
public final class CatalogHandler extends SimpleChannelInboundHandler<V2Request.Catalog> {

    private static final int DEFAULT_PAGE = 100;

    private final RepositoryStore repositories;
    private final ObjectMapper mapper;

    public CatalogHandler(RepositoryStore repositories, ObjectMapper mapper) {
        this.repositories = repositories;
        this.mapper = mapper;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, V2Request.Catalog request) {
        int n = request.n().orElse(DEFAULT_PAGE);
        String last = request.last().orElse(null);
        List<String> page = repositories.page(last, n);
        ObjectNode body = mapper.createObjectNode();
        page.forEach(body.putArray("repositories")::add);
        HttpResponse headers = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        if (!page.isEmpty() && repositories.hasAfter(page.get(page.size() - 1))) {
            headers.headers().set("Link", PageLinks.next("/v2/_catalog", Optional.empty(), Optional.of(n),
                    page.get(page.size() - 1)));
        }
        Responses.sendFull(ctx, HttpResponseStatus.OK, "application/json; charset=utf-8",
                Unpooled.wrappedBuffer(Responses.json(mapper, body)), request.isHead(), request.keepAlive(), headers);
    }
}
