package dev.regmirror.server.admin;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.regmirror.core.cluster.ClusterBlobs;
import dev.regmirror.core.cluster.ClusterSettings;
import dev.regmirror.core.cluster.Membership;
import dev.regmirror.core.cluster.NodeStatus;
import dev.regmirror.server.http.Responses;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.Objects;
import java.util.Optional;

/**
 * {@code GET /admin/cluster}: this node's cluster as it sees it (where its peers come from, each
 * node's state since when and its last failed health check) and, for {@code ?digest=}, the live
 * node that owns the blob now, as the blob path picks it; {@code {"enabled":false}} on a node
 * alone. Everything is in memory: answered on the event loop. The cluster's secret never appears.
 */
@Sharable
public final class ClusterHandler extends SimpleChannelInboundHandler<AdminRequest.Cluster> {

    /** A node's cluster: its settings, its membership, and the owners its blob path asks. */
    public record Cluster(ClusterSettings settings, Membership membership, ClusterBlobs owners) {

        public Cluster {
            Objects.requireNonNull(settings, "settings");
            Objects.requireNonNull(membership, "membership");
            Objects.requireNonNull(owners, "owners");
        }
    }

    private final Optional<Cluster> cluster;
    private final ObjectMapper mapper;

    /** @param cluster empty on a node alone */
    public ClusterHandler(Optional<Cluster> cluster, ObjectMapper mapper) {
        this.cluster = cluster;
        this.mapper = mapper;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, AdminRequest.Cluster request) {
        ObjectNode body = mapper.createObjectNode();
        body.put("enabled", cluster.isPresent());
        cluster.ifPresent(present -> describe(present, request, body));
        Responses.sendFull(ctx, HttpResponseStatus.OK, "application/json; charset=utf-8",
                Unpooled.wrappedBuffer(Responses.json(mapper, body)), request.isHead(), request.keepAlive(), null);
    }

    private static void describe(Cluster cluster, AdminRequest.Cluster request, ObjectNode body) {
        ClusterSettings settings = cluster.settings();
        body.put("self", settings.self().toString());
        body.put("tls", settings.tls().enabled());
        body.put("peersFrom", settings.peersDns().map(name -> "dns:" + name).orElse("list"));
        ArrayNode nodes = body.putArray("nodes");
        for (NodeStatus node : cluster.membership().nodes()) {
            ObjectNode json = nodes.addObject();
            json.put("node", node.node().toString());
            json.put("self", node.self());
            json.put("state", node.state().word());
            json.put("since", node.since().map(Object::toString).orElse(null));
            json.put("failedChecks", node.failedChecks());
            json.put("lastError", node.lastError().orElse(null));
            json.put("lastErrorAt", node.lastErrorAt().map(Object::toString).orElse(null));
        }
        request.digest().ifPresent(digest -> {
            body.put("digest", digest.toString());
            body.put("owner", cluster.owners().owner(digest).toString());
        });
    }
}
