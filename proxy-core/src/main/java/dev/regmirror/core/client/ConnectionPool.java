package dev.regmirror.core.client;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * The idle keep-alive connections of one {@link NettyWire}, a few per origin, the most recently used
 * taken first: each waits with a read pending, so that a server closing it (or sending anything
 * unasked) gets it closed and dropped at once, and is closed after {@code idleTimeout} on its own
 * event loop. Shutting the event loops down closes whatever is still idle.
 */
final class ConnectionPool {

    /** Where a connection goes: the wire's proxy route is the same for all of its origins. */
    record Origin(boolean https, String host, int port) {
    }

    private final int maxIdlePerOrigin;
    private final Duration idleTimeout;
    private final Map<Origin, Deque<Idle>> idle = new HashMap<>();

    ConnectionPool(int maxIdlePerOrigin, Duration idleTimeout) {
        if (maxIdlePerOrigin < 0 || idleTimeout.isNegative() || idleTimeout.isZero()) {
            throw new IllegalArgumentException("max idle " + maxIdlePerOrigin + ", idle timeout " + idleTimeout);
        }
        this.maxIdlePerOrigin = maxIdlePerOrigin;
        this.idleTimeout = idleTimeout;
    }

    /**
     * An idle connection to {@code origin}, no longer watched, if one is left. Taken from any thread;
     * the caller sends on it from its event loop, where it may still find that it closed meanwhile.
     */
    Optional<Channel> take(Origin origin) {
        while (true) {
            Idle connection;
            synchronized (idle) {
                Deque<Idle> waiting = idle.get(origin);
                connection = waiting == null ? null : waiting.pollFirst();
            }
            if (connection == null) {
                return Optional.empty();
            }
            try {
                if (connection.channel.isActive()) {
                    connection.channel.eventLoop().execute(connection::stopWatching);
                    return Optional.of(connection.channel);
                }
            } catch (RejectedExecutionException stopping) {
                // its event loop is shutting down
            }
            connection.channel.close();
        }
    }

    /**
     * Keeps a connection whose response was read to its end, on its event loop, with nothing of
     * the request's left in its pipeline; closes it when the origin has enough idle ones.
     */
    void give(Origin origin, Channel channel) {
        if (!channel.isActive()) {
            channel.close();
            return;
        }
        Idle connection = new Idle(origin, channel);
        boolean kept;
        synchronized (idle) {
            Deque<Idle> waiting = idle.computeIfAbsent(origin, o -> new ArrayDeque<>());
            kept = waiting.size() < maxIdlePerOrigin;
            if (kept) {
                waiting.addFirst(connection);
            }
        }
        if (kept) {
            connection.watch();
        } else {
            channel.close();
        }
    }

    /** Connections idle right now, for tests. */
    int idleCount() {
        synchronized (idle) {
            return idle.values().stream().mapToInt(Deque::size).sum();
        }
    }

    /** Drops an idle connection from the pool if it is still there; true when it was. */
    private boolean drop(Idle connection) {
        synchronized (idle) {
            Deque<Idle> waiting = idle.get(connection.origin);
            boolean dropped = waiting != null && waiting.remove(connection);
            if (waiting != null && waiting.isEmpty()) {
                idle.remove(connection.origin);
            }
            return dropped;
        }
    }

    /** One idle connection and what watches it: a handler at the pipeline's end and its timer. */
    private final class Idle extends ChannelInboundHandlerAdapter {

        private final Origin origin;
        private final Channel channel;
        private ScheduledFuture<?> timer;

        Idle(Origin origin, Channel channel) {
            this.origin = origin;
            this.channel = channel;
        }

        /** On the event loop: closes the connection after the idle timeout or on anything it reads. */
        void watch() {
            channel.pipeline().addLast(this);
            try {
                timer = channel.eventLoop().schedule(this::expire, idleTimeout.toNanos(), TimeUnit.NANOSECONDS);
            } catch (RejectedExecutionException stopping) {
                // the event loops are shutting down, and with them every connection
                drop(this);
                channel.close();
                return;
            }
            channel.read();
        }

        /** On the event loop, once taken: the connection's next read is the next response's. */
        void stopWatching() {
            if (timer != null) {
                timer.cancel(false);
            }
            if (channel.pipeline().context(this) != null) {
                channel.pipeline().remove(this);
            }
        }

        private void expire() {
            if (drop(this)) {
                channel.close();
            }
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            // nothing was asked: the server is closing it, or it is out of step
            ReferenceCountUtil.release(msg);
            drop(this);
            ctx.close();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            drop(this);
            if (timer != null) {
                timer.cancel(false);
            }
            ctx.fireChannelInactive();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            drop(this);
            ctx.close();
        }
    }
}
