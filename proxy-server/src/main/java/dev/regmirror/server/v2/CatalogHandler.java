package dev.regmirror.server.v2;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.regmirror.core.cache.RepositoryStore;
import dev.regmirror.core.hosted.HostedStore;
import dev.regmirror.core.mirror.Futures;
import dev.regmirror.core.reference.RepositoryName;
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
import java.util.TreeSet;
import java.util.concurrent.Executor;

/**
 * {@code GET /v2/_catalog}: the repositories held in the cache, in the client's naming
 * ({@code docker.io/library/nginx}), and the hosted repositories by the names they were pushed under
 * ({@code lan/app}), merged in lexical order, {@code n} at a time (100 unless asked) after
 * {@code last}, with a {@code Link} to the next page. Cached names are served from memory; hosted
 * ones are read on the disk executor.
 */
@Sharable
public final class CatalogHandler extends SimpleChannelInboundHandler<V2Request.Catalog> {

    private static final int DEFAULT_PAGE = 100;

    private final RepositoryStore repositories;
    private final Optional<HostedStore> hosted;
    private final Executor diskExecutor;
    private final ObjectMapper mapper;
    private final ErrorResponder errors;

    public CatalogHandler(RepositoryStore repositories, Optional<HostedStore> hosted, Executor diskExecutor,
                          ObjectMapper mapper, ErrorResponder errors) {
        this.repositories = repositories;
        this.hosted = hosted;
        this.diskExecutor = diskExecutor;
        this.mapper = mapper;
        this.errors = errors;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, V2Request.Catalog request) {
        int n = request.n().orElse(DEFAULT_PAGE);
        String last = request.last().orElse(null);
        if (hosted.isEmpty()) {
            List<String> page = repositories.page(last, n);
            respond(ctx, request, n, page, !page.isEmpty() && repositories.hasAfter(page.get(page.size() - 1)));
            return;
        }
        Futures.supplyOn(diskExecutor, () -> hosted.get().repositories()).whenComplete((names, failure) ->
                ctx.executor().execute(() -> {
                    if (failure != null) {
                        errors.send(ctx, request.method(), request.keepAlive(), failure);
                        return;
                    }
                    // One more than a page of each, merged: enough to fill the page and to tell whether more follow.
                    TreeSet<String> merged = new TreeSet<>(repositories.page(last, n + 1));
                    names.stream().map(RepositoryName::value).filter(name -> last == null || name.compareTo(last) > 0)
                            .forEach(merged::add);
                    List<String> all = List.copyOf(merged);
                    List<String> page = all.size() > n ? all.subList(0, n) : all;
                    respond(ctx, request, n, page, !page.isEmpty() && page.size() < all.size());
                }));
    }

    private void respond(ChannelHandlerContext ctx, V2Request.Catalog request, int n, List<String> page,
                         boolean more) {
        ObjectNode body = mapper.createObjectNode();
        page.forEach(body.putArray("repositories")::add);
        HttpResponse headers = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        if (more) {
            headers.headers().set("Link", PageLinks.next("/v2/_catalog", Optional.empty(), Optional.of(n),
                    page.get(page.size() - 1)));
        }
        Responses.sendFull(ctx, HttpResponseStatus.OK, "application/json; charset=utf-8",
                Unpooled.wrappedBuffer(Responses.json(mapper, body)), request.isHead(), request.keepAlive(), headers);
    }
}
