package dev.regmirror.core.testing;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Ports for servers the tests start as processes (registries, S3 servers, regmirror itself), which
 * bind them a moment after the test picked them. Picked below Linux's ephemeral range (32768 and
 * up), where the kernel never hands a port to an outgoing connection: a port taken from
 * {@code new ServerSocket(0)} is an ephemeral one, which any connection on the machine may take
 * before the process binds it, and once did ("Address already in use"). A port is handed out at
 * most once per JVM: a test that picks two ports before starting the process that binds both
 * once drew the same one twice, and the mirror's second listener failed to bind.
 */
public final class FreePorts {

    private static final int FIRST = 20_000;
    private static final int LAST = 32_000;

    /** Every port {@link #pick} returned in this JVM; a process may not have bound it yet. */
    private static final Set<Integer> HANDED_OUT = ConcurrentHashMap.newKeySet();

    private FreePorts() {
    }

    /**
     * A port nothing listens on now, on the loopback and on every address, and that no earlier call
     * in this JVM returned.
     */
    public static int pick() throws IOException {
        for (int attempt = 0; attempt < 200; attempt++) {
            int port = ThreadLocalRandom.current().nextInt(FIRST, LAST + 1);
            if (!HANDED_OUT.contains(port) && bindable(new InetSocketAddress(port))
                    && bindable(new InetSocketAddress(InetAddress.getLoopbackAddress(), port)) && HANDED_OUT.add(port)) {
                return port;
            }
        }
        throw new IOException("no free port between " + FIRST + " and " + LAST + " after 200 tries");
    }

    private static boolean bindable(InetSocketAddress address) {
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(false);
            socket.bind(address);
            return true;
        } catch (IOException taken) {
            return false;
        }
    }
}
