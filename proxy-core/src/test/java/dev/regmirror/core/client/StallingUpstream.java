package dev.regmirror.core.client;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;

/**
 * An upstream that answers one request with 200, a Content-Length, and only the first part of the
 * body, then holds the connection open without sending more until it is closed: a stall WireMock
 * cannot play, since its dribble delays the headers too.
 */
final class StallingUpstream implements AutoCloseable {

    private final ServerSocket server = new ServerSocket(0);
    private final CountDownLatch closed = new CountDownLatch(1);
    private final Thread thread;

    StallingUpstream(byte[] body, int sent) throws IOException {
        thread = new Thread(() -> serve(body, sent), "stalling-upstream");
        thread.setDaemon(true);
        thread.start();
    }

    URI url() {
        return URI.create("http://127.0.0.1:" + server.getLocalPort());
    }

    private void serve(byte[] body, int sent) {
        try (Socket socket = server.accept()) {
            readHeaders(socket.getInputStream());
            OutputStream out = socket.getOutputStream();
            out.write(("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: " + body.length
                    + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(body, 0, sent);
            out.flush();
            closed.await();
        } catch (IOException | InterruptedException e) {
            // the test is over
        }
    }

    private static void readHeaders(InputStream in) throws IOException {
        int matched = 0;
        byte[] end = {'\r', '\n', '\r', '\n'};
        for (int b = in.read(); b >= 0; b = in.read()) {
            matched = b == end[matched] ? matched + 1 : (b == '\r' ? 1 : 0);
            if (matched == end.length) {
                return;
            }
        }
    }

    @Override
    public void close() throws IOException {
        closed.countDown();
        server.close();
    }
}
