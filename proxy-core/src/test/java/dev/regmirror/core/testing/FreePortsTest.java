package dev.regmirror.core.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class FreePortsTest {

    @Test
    void portsPickedBeforeAnyIsBoundAreAllDifferent() throws Exception {
        Set<Integer> picked = new HashSet<>();
        for (int i = 0; i < 2_000; i++) { // a sixth of the range: with repeats allowed, about 150 would repeat
            picked.add(FreePorts.pick());
        }
        assertEquals(2_000, picked.size());
    }

    @Test
    void aPortThatIsPickedCanBeBoundOnTheLoopbackAndIsBelowTheEphemeralRange() throws Exception {
        int port = FreePorts.pick();
        assertTrue(port < 32_768, "port " + port);
        try (ServerSocket server = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
            assertEquals(port, server.getLocalPort());
        }
    }
}
