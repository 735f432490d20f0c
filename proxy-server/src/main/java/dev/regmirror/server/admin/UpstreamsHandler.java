package dev.regmirror.server.admin;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.regmirror.core.client.EndpointStatus;
import dev.regmirror.core.client.FailoverRegistryClient;
import dev.regmirror.server.http.Responses;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.List;

/**
 * {@code GET /admin/upstreams}: each configured upstream with its endpoints' state (up, or skipped
 * until when after a failure, and the last failure), the pull quota it last reported, and its
 * {@link UpstreamMeters}. Everything is in memory: answered on the event loop. Endpoint URLs are
 * shown without user information; credentials never appear.
 */
@Sharable
public final class UpstreamsHandler extends SimpleChannelInboundHandler<AdminRequest.Upstreams> {

    private final List<FailoverRegistryClient> upstreams;
    private final MeterRegistry meters;
    private final ObjectMapper mapper;

    public UpstreamsHandler(List<FailoverRegistryClient> upstreams, MeterRegistry meters, ObjectMapper mapper) {
        this.upstreams = List.copyOf(upstreams);
        this.meters = meters;
        this.mapper = mapper;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, AdminRequest.Upstreams request) {
        ObjectNode body = mapper.createObjectNode();
        ArrayNode list = body.putArray("upstreams");
        for (FailoverRegistryClient upstream : upstreams) {
            ObjectNode entry = list.addObject();
            entry.put("registry", upstream.registry());
            List<EndpointStatus> endpoints = upstream.endpoints();
            entry.put("state", endpoints.stream().anyMatch(EndpointStatus::up) ? "up" : "down");
            ArrayNode endpointList = entry.putArray("endpoints");
            for (EndpointStatus endpoint : endpoints) {
                ObjectNode json = endpointList.addObject();
                json.put("url", endpoint.url());
                json.put("state", endpoint.up() ? "up" : "skipped");
                json.put("skippedUntil", endpoint.skippedUntil().map(Object::toString).orElse(null));
                json.put("lastError", endpoint.lastError().orElse(null));
                json.put("lastErrorAt", endpoint.lastErrorAt().map(Object::toString).orElse(null));
            }
            entry.putPOJO("pullsRemaining", upstream.pullQuota().map(FailoverRegistryClient.PullQuota::remaining)
                    .orElse(null));
            entry.put("pullsRemainingAt", upstream.pullQuota().map(quota -> quota.at().toString()).orElse(null));
            UpstreamMeters counted = UpstreamMeters.read(meters, upstream.registry());
            entry.put("requests", counted.requests());
            entry.put("failedRequests", counted.failed());
            entry.put("meanLatencyMillis", counted.requests() == 0 ? 0
                    : Math.round(counted.latencySeconds() * 1000 / counted.requests()));
            entry.put("bytesFetched", (long) counted.bytesFetched());
            entry.put("bytesServedFromCache", (long) counted.servedFromCache());
            entry.put("bytesServedFromUpstream", (long) counted.servedFromUpstream());
            entry.put("blobHits", (long) counted.blobHits());
            entry.put("blobRequests", (long) counted.blobRequests());
        }
        Responses.sendFull(ctx, HttpResponseStatus.OK, "application/json; charset=utf-8",
                Unpooled.wrappedBuffer(Responses.json(mapper, body)), request.isHead(), request.keepAlive(), null);
    }
}
