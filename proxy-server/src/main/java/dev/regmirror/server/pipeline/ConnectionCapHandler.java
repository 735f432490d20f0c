package dev.regmirror.server.pipeline;

import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.net.InetAddress;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * Counts one listener's open connections per client address and closes a new connection at once
 * when its address already holds {@code regmirror.server.limits.connections-per-client}. One
 * instance per listener, shared by its connections; an address leaves the table with its last
 * connection.
 */
@Sharable
public final class ConnectionCapHandler extends ChannelInboundHandlerAdapter {

    private final int cap;
    private final RefusalLog refusals;
    private final ConcurrentMap<InetAddress, Integer> open = new ConcurrentHashMap<>();

    /** @param cap connections one address may hold open; 0 for no cap */
    public ConnectionCapHandler(int cap, RefusalLog refusals) {
        this.cap = cap;
        this.refusals = refusals;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        InetAddress client = ClientAddress.of(ctx.channel());
        if (cap == 0 || client == null) {
            super.channelActive(ctx);
            return;
        }
        int count = open.merge(client, 1, Integer::sum);
        ctx.channel().closeFuture().addListener(closed -> open.computeIfPresent(client, (k, n) -> n == 1 ? null : n - 1));
        if (count > cap) {
            refusals.refused(RefusalLog.Kind.CONNECTIONS, ctx.channel(),
                    "closing new connections: it holds {} open, the most regmirror.server.limits.connections-per-client allows",
                    cap);
            ctx.close();
            return;
        }
        super.channelActive(ctx);
    }

    /** Connections open from an address (refused ones until they are closed). */
    int open(InetAddress client) {
        return open.getOrDefault(client, 0);
    }
}
