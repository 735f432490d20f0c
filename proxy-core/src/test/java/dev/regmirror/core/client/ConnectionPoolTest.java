package dev.regmirror.core.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The idle connections of a wire: bounded per origin, dropped when the server speaks or closes, timed out. */
class ConnectionPoolTest {

    private static final ConnectionPool.Origin ORIGIN = new ConnectionPool.Origin(true, "registry.example", 443);
    private static final ConnectionPool.Origin OTHER = new ConnectionPool.Origin(true, "storage.example", 443);

    private final ConnectionPool pool = new ConnectionPool(2, Duration.ofSeconds(30));

    @Test
    void theMostRecentlyKeptConnectionOfTheOriginIsTakenFirst() {
        EmbeddedChannel first = new EmbeddedChannel();
        EmbeddedChannel second = new EmbeddedChannel();
        pool.give(ORIGIN, first);
        pool.give(ORIGIN, second);

        assertEquals(Optional.empty(), pool.take(OTHER));
        assertEquals(Optional.of(second), pool.take(ORIGIN));
        second.runPendingTasks();
        assertEquals(0, second.pipeline().names().stream().filter(name -> name.contains("Idle")).count(),
                "the watching handler left the pipeline: " + second.pipeline().names());
        assertEquals(Optional.of(first), pool.take(ORIGIN));
        assertEquals(Optional.empty(), pool.take(ORIGIN));
    }

    @Test
    void aConnectionBeyondTheBoundIsClosed() {
        EmbeddedChannel[] channels = {new EmbeddedChannel(), new EmbeddedChannel(), new EmbeddedChannel()};
        for (EmbeddedChannel channel : channels) {
            pool.give(ORIGIN, channel);
        }

        assertEquals(2, pool.idleCount());
        assertTrue(channels[0].isOpen() && channels[1].isOpen());
        assertFalse(channels[2].isOpen());
    }

    @Test
    void anIdleConnectionIsClosedAfterTheIdleTimeout() {
        EmbeddedChannel channel = new EmbeddedChannel();
        pool.give(ORIGIN, channel);

        channel.advanceTimeBy(29, TimeUnit.SECONDS);
        channel.runScheduledPendingTasks();
        assertTrue(channel.isOpen());
        channel.advanceTimeBy(2, TimeUnit.SECONDS);
        channel.runScheduledPendingTasks();

        assertFalse(channel.isOpen());
        assertEquals(0, pool.idleCount());
        assertEquals(Optional.empty(), pool.take(ORIGIN));
    }

    @Test
    void anIdleConnectionTheServerWritesToOrClosesIsDropped() {
        EmbeddedChannel spoken = new EmbeddedChannel();
        EmbeddedChannel closed = new EmbeddedChannel();
        pool.give(ORIGIN, spoken);
        pool.give(OTHER, closed);
        ByteBuf unasked = Unpooled.copiedBuffer(new byte[] {'H', 'T'});

        spoken.writeInbound(unasked);
        closed.close();

        assertEquals(0, unasked.refCnt(), "what nobody asked for is released");
        assertFalse(spoken.isOpen());
        assertEquals(0, pool.idleCount());
        assertEquals(Optional.empty(), pool.take(ORIGIN));
        assertEquals(Optional.empty(), pool.take(OTHER));
    }
}
