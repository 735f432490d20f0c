package dev.regmirror.server.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.benmanes.caffeine.cache.Ticker;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.channel.embedded.EmbeddedChannel;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** One handler shared by a listener's connections: the cap holds per address, and a closed connection frees its place. */
class ConnectionCapHandlerTest {

    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private final RefusalLog refusals = new RefusalLog("registry", Ticker.systemTicker(), meters);

    private static InetAddress ip(String address) throws Exception {
        return InetAddress.getByName(address);
    }

    @Test
    void pastTheCapNewConnectionsOfThatAddressCloseAtOnceAndOthersDoNot() throws Exception {
        ConnectionCapHandler cap = new ConnectionCapHandler(3, refusals);
        List<EmbeddedChannel> first = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            first.add(ClientChannel.from("10.0.0.1", cap));
        }
        EmbeddedChannel fourth = ClientChannel.from("10.0.0.1", cap);
        EmbeddedChannel fifth = ClientChannel.from("10.0.0.1", cap);
        EmbeddedChannel other = ClientChannel.from("10.0.0.2", cap);

        assertTrue(first.stream().allMatch(EmbeddedChannel::isOpen));
        assertFalse(fourth.isOpen());
        assertFalse(fifth.isOpen());
        assertTrue(other.isOpen(), "another address has its own count");
        assertEquals(3, cap.open(ip("10.0.0.1")), "refused connections are no longer counted once closed");
        assertEquals(2, meters.get("regmirror.client.refusals").tag("kind", "connections").counter().count());

        first.get(0).close();
        EmbeddedChannel again = ClientChannel.from("10.0.0.1", cap);
        assertTrue(again.isOpen(), "a closed connection frees its place");

        for (EmbeddedChannel channel : List.of(first.get(0), first.get(1), first.get(2), fourth, fifth, other, again)) {
            assertFalse(channel.finishAndReleaseAll());
        }
        assertEquals(0, cap.open(ip("10.0.0.1")), "an address leaves the table with its last connection");
        assertEquals(0, cap.open(ip("10.0.0.2")));
    }

    @Test
    void zeroMeansNoCap() throws Exception {
        ConnectionCapHandler cap = new ConnectionCapHandler(0, refusals);
        List<EmbeddedChannel> channels = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            channels.add(ClientChannel.from("10.0.0.1", cap));
        }
        assertTrue(channels.stream().allMatch(EmbeddedChannel::isOpen));
        for (EmbeddedChannel channel : channels) {
            assertFalse(channel.finishAndReleaseAll());
        }
    }
}
