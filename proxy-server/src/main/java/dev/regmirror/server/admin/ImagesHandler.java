package dev.regmirror.server.admin;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.regmirror.core.admin.ImageCatalog;
import dev.regmirror.core.cache.PullStore;
import dev.regmirror.core.mirror.Futures;
import dev.regmirror.server.http.ErrorResponder;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringEncoder;
import java.util.concurrent.Executor;

/**
 * {@code GET /admin/images[?upstream=][&prefix=][&n=][&last=]}: a page of the {@link ImageCatalog}
 * (read on the disk executor), with a {@code Link} to the next page as the catalog has.
 */
@Sharable
public final class ImagesHandler extends SimpleChannelInboundHandler<AdminRequest.Images> {

    private final ImageCatalog catalog;
    private final Executor diskExecutor;
    private final ObjectMapper mapper;
    private final ErrorResponder errors;

    public ImagesHandler(ImageCatalog catalog, Executor diskExecutor, ObjectMapper mapper, ErrorResponder errors) {
        this.catalog = catalog;
        this.diskExecutor = diskExecutor;
        this.mapper = mapper;
        this.errors = errors;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, AdminRequest.Images request) {
        Futures.supplyOn(diskExecutor, () -> catalog.page(new ImageCatalog.Query(request.upstream(),
                request.prefix(), request.n(), request.last()))).whenComplete((page, failure) -> {
            if (failure != null) {
                AdminJson.send(ctx, request, mapper, null, null, failure, errors);
                return;
            }
            HttpResponse headers = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
            if (page.more() && !page.repositories().isEmpty()) {
                headers.headers().set("Link", next(request, page.repositories().get(page.repositories().size() - 1).name()));
            }
            AdminJson.send(ctx, request, mapper, toJson(page), headers, null, errors);
        });
    }

    private static String next(AdminRequest.Images request, String last) {
        QueryStringEncoder query = new QueryStringEncoder("/admin/images");
        request.upstream().ifPresent(upstream -> query.addParam("upstream", upstream));
        request.prefix().ifPresent(prefix -> query.addParam("prefix", prefix));
        query.addParam("n", String.valueOf(request.n()));
        query.addParam("last", last);
        return "<" + query + ">; rel=\"next\"";
    }

    private ObjectNode toJson(ImageCatalog.Page page) {
        ObjectNode body = mapper.createObjectNode();
        ArrayNode repositories = body.putArray("repositories");
        for (ImageCatalog.Repository repository : page.repositories()) {
            ObjectNode entry = repositories.addObject();
            entry.put("name", repository.name());
            entry.put("upstream", repository.upstream());
            entry.put("hosted", repository.hosted());
            ArrayNode tags = entry.putArray("tags");
            for (ImageCatalog.TaggedImage image : repository.tags()) {
                ObjectNode tag = tags.addObject();
                tag.put("tag", image.tag());
                tag.put("digest", image.digest().toString());
                tag.put("mediaType", image.mediaType());
                tag.put("size", image.size());
                tag.put("cachedBytes", image.cachedBytes());
                tag.put("lastResolved", image.lastResolved().toString());
                tag.put("pulls", image.pulls().map(PullStore.Pulls::count).orElse(0L));
                tag.put("lastPulled", image.pulls().map(pulls -> pulls.last().toString()).orElse(null));
            }
        }
        return body;
    }
}
