package dev.regmirror.core.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Passes bytes between clients and one port on 127.0.0.1, both ways and untouched (TLS too, which
 * {@link FaultProxy} cannot read), counting the connections it accepted and the ones that ended; as
 * an HTTP proxy's {@code CONNECT} tunnel when asked ({@link #tunnel}).
 */
public final class TcpForwarder implements AutoCloseable {

    private final int target;
    private final boolean answersConnect;
    private final ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    private final ExecutorService threads = Executors.newCachedThreadPool(runnable -> {
        Thread thread = new Thread(runnable, "tcp-forwarder");
        thread.setDaemon(true);
        return thread;
    });
    private final AtomicInteger accepted = new AtomicInteger();
    private final AtomicInteger ended = new AtomicInteger();
    private final List<Socket> open = new CopyOnWriteArrayList<>();

    /** Starts forwarding to {@code targetPort} on 127.0.0.1. */
    public TcpForwarder(int targetPort) throws IOException {
        this(targetPort, false);
    }

    private TcpForwarder(int targetPort, boolean answersConnect) throws IOException {
        this.target = targetPort;
        this.answersConnect = answersConnect;
        threads.execute(this::acceptLoop);
    }

    /**
     * An HTTP proxy that answers each connection's {@code CONNECT} head with {@code 200} and then
     * forwards to {@code targetPort} on 127.0.0.1, whatever host the head named.
     */
    public static TcpForwarder tunnel(int targetPort) throws IOException {
        return new TcpForwarder(targetPort, true);
    }

    public int port() {
        return server.getLocalPort();
    }

    /** Connections accepted so far. */
    public int connections() {
        return accepted.get();
    }

    /** Connections that ended, closed by either side (or by {@link #dropAll}). */
    public int ended() {
        return ended.get();
    }

    /** Closes every connection open now from this side, as a server ending idle keep-alive connections does. */
    public void dropAll() {
        open.forEach(TcpForwarder::closeQuietly);
        open.clear();
    }

    @Override
    public void close() {
        closeQuietly(server);
        dropAll();
        threads.shutdownNow();
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket client = server.accept();
                accepted.incrementAndGet();
                Socket up = new Socket(InetAddress.getLoopbackAddress(), target);
                open.add(client);
                open.add(up);
                if (answersConnect) {
                    HttpHeads.read(client.getInputStream());
                    client.getOutputStream().write("HTTP/1.1 200 Connection established\r\n\r\n"
                            .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                }
                AtomicBoolean done = new AtomicBoolean();
                Runnable end = () -> {
                    if (done.compareAndSet(false, true)) {
                        ended.incrementAndGet();
                    }
                    closeQuietly(client);
                    closeQuietly(up);
                };
                threads.execute(() -> {
                    pipe(client, up);
                    end.run();
                });
                threads.execute(() -> {
                    pipe(up, client);
                    end.run();
                });
            } catch (IOException | RuntimeException e) {
                return;
            }
        }
    }

    /** Copies until {@code from} ends or either socket fails. */
    private static void pipe(Socket from, Socket to) {
        byte[] buffer = new byte[16 * 1024];
        try {
            InputStream in = from.getInputStream();
            OutputStream out = to.getOutputStream();
            int n;
            while ((n = in.read(buffer)) >= 0) {
                out.write(buffer, 0, n);
            }
        } catch (IOException e) {
            // one side is gone
        }
    }

    private static void closeQuietly(java.io.Closeable closeable) {
        try {
            closeable.close();
        } catch (IOException e) {
            // closing anyway
        }
    }
}
