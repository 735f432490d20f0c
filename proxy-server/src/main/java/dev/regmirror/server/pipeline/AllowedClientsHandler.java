package dev.regmirror.server.pipeline;

import dev.regmirror.core.error.InvalidRequestException;
import dev.regmirror.core.error.RegistryErrorCode;
import dev.regmirror.core.net.AllowedClients;
import dev.regmirror.server.http.ErrorResponder;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.util.ReferenceCountUtil;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A listener's network rule: a request from an address outside its allowed ranges is answered
 * {@code 403 DENIED} and its connection closed, before anything else reads it (no upstream is ever
 * contacted for it). Each refused address is logged at most once a minute.
 */
@Sharable
public final class AllowedClientsHandler extends ChannelInboundHandlerAdapter {

    private static final Logger LOG = LoggerFactory.getLogger(AllowedClientsHandler.class);
    private static final Duration LOG_EVERY = Duration.ofMinutes(1);
    /** Beyond this many addresses remembered for the log's once-a-minute rule, the table starts over. */
    private static final int MAX_REMEMBERED = 10_000;

    private final String listener;
    private final AllowedClients allowed;
    private final ErrorResponder errors;
    private final Clock clock;
    private final ConcurrentMap<InetAddress, Instant> lastLogged = new ConcurrentHashMap<>();

    public AllowedClientsHandler(String listener, AllowedClients allowed, ErrorResponder errors, Clock clock) {
        this.listener = listener;
        this.allowed = allowed;
        this.errors = errors;
        this.clock = clock;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        InetAddress client = client(ctx);
        if (client == null || allowed.allows(client)) {
            ctx.fireChannelRead(msg);
            return;
        }
        ReferenceCountUtil.release(msg);
        if (msg instanceof HttpRequest request) {
            logOnce(client);
            errors.send(ctx, request.method(), false, new InvalidRequestException(RegistryErrorCode.DENIED,
                    "this " + listener + " listener does not serve " + client.getHostAddress()));
        }
    }

    private static InetAddress client(ChannelHandlerContext ctx) {
        // An HTTP/2 stream answers with its connection's address.
        return ctx.channel().remoteAddress() instanceof InetSocketAddress address ? address.getAddress() : null;
    }

    private void logOnce(InetAddress client) {
        Instant now = clock.instant();
        Instant last = lastLogged.get(client);
        if (last != null && last.plus(LOG_EVERY).isAfter(now)) {
            return;
        }
        if (lastLogged.size() >= MAX_REMEMBERED) {
            lastLogged.clear();
        }
        lastLogged.put(client, now);
        LOG.warn("refused {}: not in the allowed ranges of the {} listener ({})", client.getHostAddress(), listener,
                allowed);
    }
}
