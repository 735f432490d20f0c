package dev.regmirror.server.admin;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.regmirror.core.admin.ImageCatalog;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.regmirror.core.mirror.Futures;
import dev.regmirror.server.http.ErrorResponder;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Executor;

/**
 * {@code GET /admin/tags[?q=][&sort=][&order=desc][&offset=][&n=]}: every tag of the
 * {@link ImageCatalog} as one flat list (read on the disk executor), filtered, sorted and cut to a
 * page there, so that a browser showing ten thousand tags only ever receives the page it shows.
 */
@Sharable
public final class TagTableHandler extends SimpleChannelInboundHandler<AdminRequest.Tags> {

    private final ImageCatalog catalog;
    private final Executor diskExecutor;
    private final ObjectMapper mapper;
    private final ErrorResponder errors;

    public TagTableHandler(ImageCatalog catalog, Executor diskExecutor, ObjectMapper mapper, ErrorResponder errors) {
        this.catalog = catalog;
        this.diskExecutor = diskExecutor;
        this.mapper = mapper;
        this.errors = errors;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, AdminRequest.Tags request) {
        Futures.supplyOn(diskExecutor, () -> toJson(request, rows(request))).whenComplete(
                (body, failure) -> AdminJson.send(ctx, request, mapper, body, null, failure, errors));
    }

    private List<TagSort.TagRow> rows(AdminRequest.Tags request) throws IOException {
        String query = request.query().map(q -> q.toLowerCase(Locale.ROOT)).orElse(null);
        List<TagSort.TagRow> rows = new ArrayList<>();
        for (ImageCatalog.Repository repository : catalog.all()) {
            for (ImageCatalog.TaggedImage image : repository.tags()) {
                if (query == null || (repository.name() + ":" + image.tag()).toLowerCase(Locale.ROOT).contains(query)
                        || image.digest().toString().contains(query)) {
                    rows.add(new TagSort.TagRow(repository.name(), repository.upstream(), repository.hosted(), image));
                }
            }
        }
        rows.sort(request.sort().comparator(request.descending()));
        return rows;
    }

    private ObjectNode toJson(AdminRequest.Tags request, List<TagSort.TagRow> rows) {
        ObjectNode body = mapper.createObjectNode();
        body.put("total", rows.size());
        body.put("offset", request.offset());
        body.put("sort", request.sort().wireName());
        body.put("order", request.descending() ? "desc" : "asc");
        ArrayNode tags = body.putArray("tags");
        for (TagSort.TagRow row : rows.subList(Math.min(request.offset(), rows.size()),
                (int) Math.min((long) request.offset() + request.n(), rows.size()))) {
            ObjectNode tag = tags.addObject();
            tag.put("repository", row.repository());
            tag.put("upstream", row.upstream());
            tag.put("hosted", row.hosted());
            tag.put("tag", row.tag());
            tag.put("digest", row.image().digest().toString());
            tag.put("mediaType", row.image().mediaType());
            tag.put("size", row.size());
            tag.put("cachedBytes", row.image().cachedBytes());
            tag.put("lastResolved", row.lastResolved().toString());
            tag.put("pulls", row.pulls());
            tag.put("lastPulled", row.lastPulled().map(Object::toString).orElse(null));
        }
        return body;
    }
}
